// Command noop is the benchmark yardstick: a do-nothing kyaml function. It
// reads a ResourceList (or, with -stream, a plain multi-document stream) with
// kyaml and writes it back unchanged.
package main

import (
	"flag"
	"fmt"
	"os"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
)

func main() {
	stream := flag.Bool("stream", false, "read and write a plain multi-document stream")
	flag.Parse()
	rw := &kio.ByteReadWriter{Reader: os.Stdin, Writer: os.Stdout}
	var err error
	if *stream {
		rw.OmitReaderAnnotations = true
		rw.NoWrap = true
		err = kio.Pipeline{Inputs: []kio.Reader{rw}, Outputs: []kio.Writer{rw}}.Execute()
	} else {
		err = framework.Execute(framework.ResourceListProcessorFunc(func(*framework.ResourceList) error { return nil }), rw)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
