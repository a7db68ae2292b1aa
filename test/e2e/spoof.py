#!/usr/bin/env python3
"""Send one UDP datagram with a forged IPv4 source address and port (root only: a raw socket).

usage: spoof.py SRC_IP SRC_PORT DST_IP DST_PORT PAYLOAD_HEX

The IPv4 and UDP headers are built by hand, so the receiver sees the datagram as coming from
SRC_IP:SRC_PORT: what an off-path attacker who can forge source addresses sends (issue 9).
"""
import socket
import struct
import sys


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main() -> None:
    src_ip, src_port, dst_ip, dst_port, payload_hex = sys.argv[1:6]
    payload = bytes.fromhex(payload_hex)
    src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    udp_len = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_UDP, udp_len)
    udp = struct.pack("!HHHH", int(src_port), int(dst_port), udp_len, 0)
    csum = checksum(pseudo + udp + payload) or 0xFFFF
    udp = struct.pack("!HHHH", int(src_port), int(dst_port), udp_len, csum)
    total = 20 + udp_len
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0x1234, 0, 64, socket.IPPROTO_UDP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    s.sendto(ip + udp + payload, (dst_ip, 0))
    s.close()


if __name__ == "__main__":
    main()
