/** The part of Apache Olingo's odatajs (npm, untyped) the OData client tests use. */
declare module 'odatajs/index.js' {
  interface BatchHandler {
    readonly accept: string;
  }
  interface ODataApi {
    request(
      request: { requestUri: string; method: string; data?: unknown },
      success: (data: any) => void,
      error: (error: unknown) => void,
      handler?: BatchHandler,
    ): unknown;
    readonly batch: { readonly batchHandler: BatchHandler };
  }
  const odatajs: { readonly oData: ODataApi };
  export default odatajs;
}
