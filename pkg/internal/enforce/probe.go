//go:build linux

package enforce

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// listeners are the sockets one case opened; close ends their goroutines.
type listeners struct {
	closers []io.Closer
	wg      sync.WaitGroup
}

// open listens on every port inside a namespace: TCP accepts and closes, UDP
// echoes each datagram to its sender.
func (ls *listeners) open(ns netNS, ports []Port) error {
	for _, p := range ports {
		switch p.Proto {
		case "TCP":
			l, err := ns.listenTCP(uint16(p.Port))
			if err != nil {
				return fmt.Errorf("listening on %s in %s: %w", p, ns, err)
			}
			ls.closers = append(ls.closers, l)
			ls.wg.Add(1)
			go func() {
				defer ls.wg.Done()
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
		case "UDP":
			c, err := ns.listenUDP(uint16(p.Port))
			if err != nil {
				return fmt.Errorf("listening on %s in %s: %w", p, ns, err)
			}
			ls.closers = append(ls.closers, c)
			ls.wg.Add(1)
			go func() {
				defer ls.wg.Done()
				buf := make([]byte, 64)
				for {
					n, from, err := c.ReadFromUDPAddrPort(buf)
					if err != nil {
						if errors.Is(err, net.ErrClosed) {
							return
						}
						continue
					}
					_, _ = c.WriteToUDPAddrPort(buf[:n], from)
				}
			}()
		default:
			return fmt.Errorf("protocol %s cannot be probed", p.Proto)
		}
	}
	return nil
}

func (ls *listeners) close() {
	for _, c := range ls.closers {
		c.Close()
	}
	ls.wg.Wait()
	ls.closers = nil
}

// probe reports whether a new connection from inside ns reaches to on port:
// a TCP handshake that completes, or a UDP datagram echoed back. A refusal
// (reset, ICMP unreachable) or silence until timeout is a no.
func probe(ctx context.Context, ns netNS, to netip.Addr, p Port, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	network := "tcp"
	if p.Proto == "UDP" {
		network = "udp"
	}
	c, err := ns.dial(ctx, network, netip.AddrPortFrom(to, uint16(p.Port)))
	if err != nil {
		return false
	}
	defer c.Close()
	if network == "tcp" {
		return true
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	deadline, _ := ctx.Deadline()
	_ = c.SetDeadline(deadline)
	if _, err := c.Write(nonce); err != nil {
		return false
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	return err == nil && bytes.Equal(buf[:n], nonce)
}
