# A TCP proxy on 127.0.0.1 that delays each chunk by DELAY/2 each way: a
# round trip of DELAY seconds between a site and its scheduler (a far site,
# on loopback). Usage: delay_proxy.py PORT_FILE TARGET_PORT DELAY_S; it
# listens on a port the kernel picks and writes it to PORT_FILE.
import asyncio, sys
port_file, target_port, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
async def pipe(r, w):
    q = asyncio.Queue()
    async def rd():
        while True:
            d = await r.read(65536)
            await q.put((asyncio.get_running_loop().time(), d))
            if not d: break
    async def wr():
        while True:
            t, d = await q.get()
            wait = t + delay / 2 - asyncio.get_running_loop().time()
            if wait > 0: await asyncio.sleep(wait)
            if not d:
                try: w.close()
                except Exception: pass
                break
            w.write(d); await w.drain()
    await asyncio.gather(rd(), wr(), return_exceptions=True)
async def handle(cr, cw):
    sr, sw = await asyncio.open_connection('127.0.0.1', target_port)
    await asyncio.gather(pipe(cr, sw), pipe(sr, cw), return_exceptions=True)
async def main():
    s = await asyncio.start_server(handle, '127.0.0.1', 0)
    with open(port_file + '.tmp', 'w') as f: f.write(str(s.sockets[0].getsockname()[1]))
    import os; os.rename(port_file + '.tmp', port_file)
    async with s: await s.serve_forever()
asyncio.run(main())
