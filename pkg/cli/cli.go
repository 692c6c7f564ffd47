// Package cli is every tierwall command and nothing else: tierwall (with no
// subcommand the KRM function, a ResourceList on stdin; report; check;
// version; completion) and tierwall-postrender (the Helm post-renderer).
// It holds the one --config reader, the one table of exit codes and the
// process tuning, and runs the engine (pkg/inject) between the readers
// and writers of the wire formats (pkg/resourcelist, pkg/stream).
//
// Commands are cobra commands built for one run from injected stdin,
// stdout, stderr, environment and file reader (Command), so that tests run
// exactly what the binaries run; the mains are one line each.
package cli

import (
	"io"
	"os"

	"github.com/tierwall/tierwall/pkg/inject"
)

// Exit codes, one table for every command.
const (
	// ExitOK: the run succeeded (a check found nothing at or above
	// --fail-on).
	ExitOK = 0
	// ExitFailed: findings at or above --fail-on, or a run that failed (an
	// error result, the engine could not derive the policies, a write error).
	ExitFailed = 1
	// ExitUsage: a usage or configuration error: unknown command or flag, a
	// bad flag value, a stray argument, stdin a terminal, an unreadable or
	// invalid --config file or functionConfig.
	ExitUsage = 2
	// ExitInput: unreadable input: stdin or a named file missing or
	// unreadable, not YAML, or not the shape the command reads.
	ExitInput = 3
)

// Command is the environment of one run: a command's I/O, environment and
// file reader. The zero Getenv and ReadFile read nothing.
type Command struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment: HELM_NAMESPACE (post-renderer) and
	// ARGOCD_APP_NAME (the release, for every command that renders).
	Getenv func(string) string
	// ReadFile reads the --config file.
	ReadFile func(string) ([]byte, error)
}

// Main runs tierwall with the process's environment and files and returns
// its exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	inject.TuneGC()
	return process(stdin, stdout, stderr).Main(args)
}

// PostRender runs tierwall-postrender with the process's environment and
// files and returns its exit code.
func PostRender(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	inject.TuneGC()
	return process(stdin, stdout, stderr).PostRender(args)
}

func process(stdin io.Reader, stdout, stderr io.Writer) Command {
	return Command{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, ReadFile: os.ReadFile}
}

func (c Command) getenv(k string) string {
	if c.Getenv == nil {
		return ""
	}
	return c.Getenv(k)
}

func (c Command) readFile(p string) ([]byte, error) {
	if c.ReadFile == nil {
		return nil, os.ErrNotExist
	}
	return c.ReadFile(p)
}
