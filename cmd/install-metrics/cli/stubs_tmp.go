package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func (e *Env) newClassifyCmd() *cobra.Command      { return &cobra.Command{Use: "classify"} }
func (e *Env) newShowCmd(Options) *cobra.Command   { return &cobra.Command{Use: "show"} }
func (e *Env) newFlushCmd(Options) *cobra.Command  { return &cobra.Command{Use: "flush"} }
func (e *Env) wrap(Options, []string) (int, error) { return 0, errors.New("todo") }
