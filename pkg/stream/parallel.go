package stream

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ForEach calls fn for every i in [0, n), spread over the machine's cores.
// fn must only touch what belongs to its i.
func ForEach(n int, fn func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// CheckDuplicateKeys returns an error naming the first key that a mapping
// of n holds twice. YAML forbids them, and readers disagree on which value
// wins (the API server may take another than tierwall), so they are refused.
func CheckDuplicateKeys(n *yaml.Node) error {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if err := CheckDuplicateKeys(c); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		var seen map[string]bool
		if len(n.Content) > 8 {
			seen = make(map[string]bool, len(n.Content)/2)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode {
				dup := false
				if seen != nil {
					dup = seen[k.Value]
					seen[k.Value] = true
				} else {
					for j := 0; j < i; j += 2 {
						if n.Content[j].Kind == yaml.ScalarNode && n.Content[j].Value == k.Value {
							dup = true
							break
						}
					}
				}
				if dup {
					return fmt.Errorf("duplicate key %q at line %d", k.Value, k.Line)
				}
			}
			if err := CheckDuplicateKeys(n.Content[i+1]); err != nil {
				return err
			}
		}
	}
	return nil
}
