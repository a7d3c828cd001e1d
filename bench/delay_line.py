"""A TCP delay line for U2 where the kernel has no netem: listens on loopback and relays every
connection to TARGET_PORT, delivering each byte DELAY_MS after it arrived, in each direction
(so a request and its answer take 2 x DELAY_MS more, as with netem on both ends). A connection
waits 2 x DELAY_MS before its first byte moves (the handshake's round trip). Bandwidth is not
limited: only latency is added.

usage: delay_line.py TARGET_PORT DELAY_MS PORT_FILE   (writes its port to PORT_FILE when ready)
"""
import collections
import os
import socket
import sys
import threading
import time


def pump(src, dst, delay):
    """Reads src as fast as it comes; a second thread writes each chunk to dst when it is due."""
    queue = collections.deque()
    ready = threading.Condition()

    def write():
        while True:
            with ready:
                while not queue:
                    ready.wait()
                due, data = queue.popleft()
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            try:
                dst.sendall(data)
            except OSError:
                return

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    while True:
        try:
            data = src.recv(1 << 20)
        except OSError:
            data = b""
        with ready:
            queue.append((time.monotonic() + delay, data))
            ready.notify()
        if not data:
            break
    writer.join()


def relay(client, target_port, delay):
    time.sleep(2 * delay)
    server = socket.create_connection(("127.0.0.1", target_port))
    for s in (client, server):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    up = threading.Thread(target=pump, args=(client, server, delay), daemon=True)
    up.start()
    pump(server, client, delay)
    up.join()
    client.close()
    server.close()


def main():
    target_port, delay, port_file = int(sys.argv[1]), int(sys.argv[2]) / 1000, sys.argv[3]
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.replace(port_file + ".tmp", port_file)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=relay, args=(client, target_port, delay), daemon=True).start()


if __name__ == "__main__":
    main()
