//go:build linux

package enforce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// netnsDir is where `ip netns add` keeps its namespaces.
const netnsDir = "/run/netns"

// netNS is a named network namespace made with `ip netns add`. Nothing of the
// sandbox lives in the host's own namespace: links, routes and firewall rules
// are made inside these with `ip -n` and `ip netns exec`, and sockets are
// opened by a thread that enters the namespace only for the socket call.
type netNS string

func (n netNS) path() string { return filepath.Join(netnsDir, string(n)) }

// addNetNS makes a namespace with its loopback up.
func addNetNS(name string) (netNS, error) {
	if err := run(nil, "ip", "netns", "add", name); err != nil {
		return "", err
	}
	n := netNS(name)
	return n, n.ip("link", "set", "lo", "up")
}

// remove deletes the namespace; links inside it go with it.
func (n netNS) remove() error { return run(nil, "ip", "netns", "delete", string(n)) }

// ip runs `ip -n NS args...`.
func (n netNS) ip(args ...string) error {
	return run(nil, "ip", append([]string{"-n", string(n)}, args...)...)
}

// batch runs several ip commands inside the namespace in one process.
func (n netNS) batch(lines ...string) error {
	return run([]byte(strings.Join(lines, "\n")+"\n"), "ip", "-n", string(n), "-batch", "-")
}

// exec runs a command inside the namespace (`ip netns exec`).
func (n netNS) exec(name string, args ...string) error {
	return run(nil, "ip", append([]string{"netns", "exec", string(n), name}, args...)...)
}

// command returns a command that runs inside the namespace.
func (n netNS) command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", string(n), name}, args...)...)
}

// run runs a command and returns its stderr in the error.
func run(stdin []byte, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// do runs fn on an OS thread that has entered the namespace. fn must only
// make sockets: they stay in the namespace they were made in wherever they
// are used afterwards. A thread that cannot go back to its own namespace
// stays locked and ends with its goroutine, so no other code runs on it.
func (n netNS) do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer self.Close()
		target, err := os.Open(n.path())
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering network namespace %s: %w", n, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("leaving network namespace %s: %w", n, err)
			return // the thread stays locked and dies with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// socket makes a non-blocking IPv4 socket inside the namespace.
func (n netNS) socket(typ int) (int, error) {
	fd := -1
	err := n.do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		return err
	})
	return fd, err
}

// dial connects from inside the namespace: network is "tcp" or "udp". Only
// the socket is made in the namespace; the connection is waited for by Go's
// poller, so thousands of probes need no thread each.
func (n netNS) dial(ctx context.Context, network string, to netip.AddrPort) (net.Conn, error) {
	typ := unix.SOCK_STREAM
	if network == "udp" {
		typ = unix.SOCK_DGRAM
	}
	fd, err := n.socket(typ)
	if err != nil {
		return nil, err
	}
	// Connect before the poller sees the socket: registered unconnected, a TCP
	// socket reports a hang-up that would read as "connected".
	err = unix.Connect(fd, &unix.SockaddrInet4{Port: int(to.Port()), Addr: to.Addr().As4()})
	f := os.NewFile(uintptr(fd), "probe")
	defer f.Close() // net.FileConn holds its own copy
	if errors.Is(err, unix.EINPROGRESS) {
		err = waitConnected(ctx, f)
	}
	if err != nil {
		return nil, err
	}
	return net.FileConn(f)
}

// waitConnected waits for a non-blocking connect to finish and returns its
// outcome: nil once the socket has a peer, the connect's error (SO_ERROR),
// or os.ErrDeadlineExceeded.
func waitConnected(ctx context.Context, f *os.File) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	if err := f.SetWriteDeadline(deadline); err != nil {
		return err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var connErr error
	err = rc.Write(func(fd uintptr) bool {
		v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case err != nil:
			connErr = err
		case v != 0:
			connErr = unix.Errno(v)
		default:
			if _, err := unix.Getpeername(int(fd)); err != nil {
				return false // still connecting: wait until writable
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	return connErr
}

// listenTCP and listenUDP open listeners on every address of the namespace.
func (n netNS) listenTCP(port uint16) (*net.TCPListener, error) {
	var l *net.TCPListener
	err := n.do(func() error {
		var err error
		l, err = net.ListenTCP("tcp4", &net.TCPAddr{Port: int(port)})
		return err
	})
	return l, err
}

func (n netNS) listenUDP(port uint16) (*net.UDPConn, error) {
	var c *net.UDPConn
	err := n.do(func() error {
		var err error
		c, err = net.ListenUDP("udp4", &net.UDPAddr{Port: int(port)})
		return err
	})
	return c, err
}

// removeStaleNetNS deletes the namespaces named prefix<pid>-... whose process
// is gone: a test binary killed by its -timeout runs no cleanup.
func removeStaleNetNS(prefix string) {
	entries, err := os.ReadDir(netnsDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(strings.SplitN(rest, "-", 2)[0])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // still running
		}
		_ = netNS(e.Name()).remove()
	}
}
