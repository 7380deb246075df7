import { forEachPlatform } from './utils/platforms.js';
import { useTestApp } from './utils/test-app.js';

/** A multipart batch of one change set holding `count` POSTs, each with its Content-ID. */
function changeSetOf(count: number): string {
  const requests = Array.from(
    { length: count },
    (_, at) =>
      `--cs\r\nContent-Type: application/http\r\nContent-ID: ${String(at + 1)}\r\n\r\nPOST /items HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{"name":"x"}\r\n`,
  );
  return `--b\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n${requests.join('')}--cs--\r\n--b--\r\n`;
}

forEachPlatform(() => {
  describe('no format takes more than the native one', () => {
    const t = useTestApp();

    it('a Graph request whose binary body is not base64 is a 400 naming it, as in the native format; nothing runs', async () => {
      const graph = await t.http.post('/batch').send({
        requests: [
          {
            id: '1',
            method: 'POST',
            url: '/echo',
            headers: { 'content-type': 'application/octet-stream' },
            body: 'not base64!',
          },
        ],
      });
      const native = await t.http.post('/batch').send({
        data: [{ method: 'POST', url: '/echo', body: 'not base64!', bodyEncoding: 'base64' }],
      });
      expect([graph.status, native.status]).toEqual([400, 400]);
      expect(graph.body).toMatchObject({
        reason: 'invalid-batch',
        message: [expect.stringMatching(/^requests\.0\.body must be base64 \(A-Z a-z 0-9 \+ \//)],
      });
      expect(t.recorder.count('echo')).toBe(0);
    });

    it('a change set over limit is a 413, as a batch over it is; nothing runs', async () => {
      const response = await t.http
        .post('/batch')
        .set('content-type', 'multipart/mixed; boundary=b')
        .send(changeSetOf(60));
      expect(response.status).toBe(413);
      expect(response.body).toMatchObject({ statusCode: 413, reason: 'too-many-operations' });
      expect(t.recorder.count('items.create')).toBe(0);
    });
  });
});
