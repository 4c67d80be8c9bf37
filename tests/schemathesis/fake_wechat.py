"""A stand-in for api.weixin.qq.com that rejects every login code (errcode
40029), so POST /auth/wechat is exercised end to end instead of answering
503 for want of credentials. Prints its port, then serves until killed."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Rejecting(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"errcode": 40029, "errmsg": "invalid code"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Rejecting)
print(server.server_address[1], flush=True)
server.serve_forever()
