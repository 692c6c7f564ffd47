//go:build linux

package enforce

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// apiClient speaks JSON to the sandbox's kube-apiserver. The server listens on
// 127.0.0.1 inside the node namespace, so the client's connections are made
// there too.
type apiClient struct {
	base, token string
	port        uint16
	http        *http.Client
}

// apiError is a response with a status code other than 2xx.
type apiError struct {
	Method, Path string
	Code         int
	Body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Code, e.Body)
}

// isStatus reports whether err is an apiError with code.
func isStatus(err error, code int) bool {
	var e *apiError
	return errors.As(err, &e) && e.Code == code
}

var (
	serverRE = regexp.MustCompile(`(?m)^\s*server:\s*https://127\.0\.0\.1:(\d+)\s*$`)
	tokenRE  = regexp.MustCompile(`(?m)^\s*token:\s*(\S+)\s*$`)
)

// newAPIClient reads the kubeconfig and CA scripts/apiserver.sh wrote in dir.
func newAPIClient(node netNS, dir string) (*apiClient, error) {
	kc, err := os.ReadFile(filepath.Join(dir, "kubeconfig"))
	if err != nil {
		return nil, err
	}
	server, token := serverRE.FindSubmatch(kc), tokenRE.FindSubmatch(kc)
	if server == nil || token == nil {
		return nil, fmt.Errorf("%s/kubeconfig names no 127.0.0.1 server or no token", dir)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "pki", "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s/pki/ca.crt holds no certificate", dir)
	}
	port, err := strconv.ParseUint(string(server[1]), 10, 16)
	if err != nil {
		return nil, err
	}
	to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"},
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return node.dial(ctx, "tcp", to)
		},
		MaxIdleConnsPerHost: 16,
	}
	return &apiClient{
		base:  "https://" + to.String(),
		token: string(token[1]),
		port:  uint16(port),
		http:  &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}, nil
}

// do sends body (JSON-encoded unless it is []byte) and decodes the answer into
// out when out is not nil.
func (c *apiClient) do(ctx context.Context, method, path, contentType string, body, out any) error {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if r != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &apiError{Method: method, Path: path, Code: resp.StatusCode, Body: string(bytes.TrimSpace(data))}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (c *apiClient) create(ctx context.Context, path string, obj any) error {
	return c.do(ctx, http.MethodPost, path, "application/json", obj, nil)
}

func (c *apiClient) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, "", nil, out)
}

func (c *apiClient) mergePatch(ctx context.Context, path string, patch any) error {
	return c.do(ctx, http.MethodPatch, path, "application/merge-patch+json", patch, nil)
}

// delete removes an object at once (grace period 0: no kubelet finishes pods
// here); a missing object is not an error.
func (c *apiClient) delete(ctx context.Context, path string) error {
	err := c.do(ctx, http.MethodDelete, path, "application/json",
		map[string]any{"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0}, nil)
	if isStatus(err, http.StatusNotFound) {
		return nil
	}
	return err
}
