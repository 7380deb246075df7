/** The part of fbgraph (npm, untyped) the client tests use. */
declare module 'fbgraph' {
  type Callback = (error: unknown, result: unknown) => void;
  interface Graph {
    setGraphUrl(url: string): void;
    setVersion(version: string): void;
    setAccessToken(token: string | null): void;
    batch(requests: readonly object[], callback: Callback): unknown;
  }
  const graph: Graph;
  export default graph;
}
