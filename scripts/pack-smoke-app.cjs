// The app both pack-smoke apps serve: GET /items/:id and BatchModule, built from the Nest and
// nestjs-batch each app installed (Nest 12 ESM or Nest 11 CommonJS), so the definition is one.
// Plain JavaScript: decorators are applied as functions.
module.exports = function defineItemsApp({ Controller, Get, Module, Param }, { BatchModule }) {
  class ItemsController {
    one(id) {
      return { id: Number(id) };
    }
  }
  const one = Object.getOwnPropertyDescriptor(ItemsController.prototype, 'one');
  Get(':id')(ItemsController.prototype, 'one', one);
  Param('id')(ItemsController.prototype, 'one', 0);
  Controller('items')(ItemsController);
  class AppModule {}
  Module({ imports: [BatchModule.forRoot()], controllers: [ItemsController] })(AppModule);
  return AppModule;
};
