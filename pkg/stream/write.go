package stream

import (
	"fmt"
	"io"
	"strings"

	"github.com/tierwall/tierwall/pkg/emit"
)

// Output is a stream to write: the input byte for byte, less the documents
// dropped, then the generated objects.
type Output struct {
	// Input is the stream read; nil or blank writes no input.
	Input *Stream
	// Dropped are the positions of input documents to leave out (tierwall's
	// own unedited earlier output, regenerated).
	Dropped map[int]bool
	// Comments are written as "# tierwall: " lines above the first
	// generated object, one line each.
	Comments []string
	// Objects are the generated objects, each written after a "---" line.
	Objects []emit.Object
}

// Empty reports whether there is nothing to write.
func (o Output) Empty() bool {
	return (o.Input == nil || len(o.Input.Raw) == 0) && len(o.Objects) == 0
}

// Write writes the input byte for byte (a final newline added when
// missing), then each generated object after a "---" line (none before the
// first when the input ends with a bare one). Without input it writes
// nothing: a blank stream stays blank.
func (o Output) Write(w io.Writer) error {
	if o.Input == nil || len(o.Input.Raw) == 0 {
		return nil
	}
	if len(o.Dropped) > 0 {
		// Every document but those dropped, byte for byte.
		last := byte('\n')
		for _, d := range o.Input.Documents {
			if o.Dropped[d.Position] || len(d.Raw) == 0 {
				continue
			}
			if last != '\n' {
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
			}
			if _, err := w.Write(d.Raw); err != nil {
				return err
			}
			last = d.Raw[len(d.Raw)-1]
		}
		if last != '\n' {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		return o.writeObjects(w, false)
	}
	raw := o.Input.Raw
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if raw[len(raw)-1] != '\n' {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
	}
	return o.writeObjects(w, o.Input.EndsWithSeparator())
}

// writeObjects writes each generated object after a "---" line (none before
// the first when separator says the input ends with one), the comments
// above the first.
func (o Output) writeObjects(w io.Writer, separator bool) error {
	for i, obj := range o.Objects {
		if i > 0 || !separator {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if i == 0 {
			for _, c := range o.Comments {
				if _, err := io.WriteString(w, "# tierwall: "+oneLine(c)+"\n"); err != nil {
					return err
				}
			}
		}
		if err := emit.Write(w, obj.Node); err != nil {
			return fmt.Errorf("writing %s %s: %w", obj.Kind, obj.Name, err)
		}
	}
	return nil
}

// oneLine keeps a message on one comment line.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
