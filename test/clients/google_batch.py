"""Drives Google's published Python client (Debian's python3-googleapi) against a test app.

    /usr/bin/python3 google_batch.py BASE_URL batch|direct [ordered]

Builds each request with the client's own JsonModel, as a discovery-built service does, then runs
them all through googleapiclient.http.BatchHttpRequest ("batch") or one by one ("direct"), and
prints one JSON line: what each callback got, in the order the requests were added.
"""
import json
import sys

import httplib2
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest
from googleapiclient.model import JsonModel

base, mode = sys.argv[1], sys.argv[2]
scenario = sys.argv[3] if len(sys.argv) > 3 else 'mixed'
http = httplib2.Http()
model = JsonModel()


def request(method, path, body=None):
    headers, _, query, payload = model.request({}, {}, {}, body)
    uri = base + path + ('?' + query if query else '')
    return HttpRequest(http, model.response, uri, method=method, body=payload, headers=headers)


requests = [
    ('create', request('POST', '/items', {'name': 'google', 'qty': 1})),
    ('seed', request('GET', '/items/1')),
    ('missing', request('GET', '/items/999')),
    ('invalid', request('POST', '/items', {'qty': -1})),
    # Body-less: the client still writes Content-Type: application/json on its part.
    ('delete', request('DELETE', '/items/3')),
]
batch_path = '/batch'
if scenario == 'ordered':
    # A write and a read of the same item of the OData service (test/odata-clients.e2e-spec.ts):
    # the read sees the write only if it runs after it.
    batch_path = '/odata/$batch'
    requests = [
        ('patch', request('PATCH', '/odata/TodoItems(1)', {'Title': 'uno'})),
        ('read', request('GET', '/odata/TodoItems(1)')),
    ]

seen = []


def callback(request_id, response, exception):
    if exception is not None:
        seen.append({'id': request_id, 'status': exception.resp.status,
                     'error': json.loads(exception.content.decode('utf-8'))})
    else:
        seen.append({'id': request_id, 'status': 'ok', 'response': response})


if mode == 'batch':
    batch = BatchHttpRequest(batch_uri=base + batch_path)
    for request_id, one in requests:
        batch.add(one, callback=callback, request_id=request_id)
    batch.execute(http=http)
else:
    for request_id, one in requests:
        try:
            callback(request_id, one.execute(http=http), None)
        except HttpError as error:
            callback(request_id, None, error)

print(json.dumps(seen))
