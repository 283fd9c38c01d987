package cli

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/install-metrics/install-metrics/pkg/push"
	"github.com/install-metrics/install-metrics/pkg/show"
)

// ShowOptions are the flags of `metrics show`.
type ShowOptions struct {
	Format string
	File   string
}

func (e *Env) newShowCmd(opts Options) *cobra.Command {
	so := &ShowOptions{}
	cmd := &cobra.Command{
		Use:   "show [flags]",
		Short: "Print what was recorded on this machine",
		Long: `Show prints the local textfile: invocations by command and result, stage
duration buckets and modified assets. --format prom prints the file as
Prometheus reads it; --format json is for machines.`,
		Example: `  install-metrics metrics show
  install-metrics metrics show --format prom`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := so.File
			if path == "" {
				dir, err := push.StateDir(e.Getenv)
				if err != nil {
					return err
				}
				path = push.DefaultTextfile(dir)
			}
			return show.Show(cmd.OutOrStdout(), path, so.Format)
		},
	}
	cmd.Flags().StringVar(&so.Format, "format", "table", "output `FORMAT`: table, prom or json")
	cmd.Flags().StringVar(&so.File, "file", "", "the textfile at `PATH` (default: the local textfile)")
	return cmd
}

func (e *Env) newFlushCmd(opts Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "flush",
		Short: "Send what earlier runs could not: killed runs, pushes kept for a sink",
		Long: `Flush sends what earlier runs could not: the runs whose wrapper was killed
before its sinks had them (from the journal) and the pushes kept when a gateway
or StatsD sink provably did not receive them, to the sinks given by
--metrics-sink or INSTALL_METRICS_SINKS, within --metrics-timeout. A push that
may have arrived is never sent again. Credentials come from the current
--metrics-auth (pull-secret: re-read from the run's asset directory): nothing
kept on disk holds one.`,
		Example: `  install-metrics --metrics-sink https://gw.example.com --metrics-auth token-file:/run/token metrics flush`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := e.logger(opts.Debug)
			sender, err := e.newSender(opts, nil, log)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			rep := sender.Flush(ctx)
			for _, w := range rep.Warnings {
				log.Warn(w.Error())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "flushed %d spooled push(es)\n", rep.Flushed)
			return nil
		},
	}
	cmd.SetHelpTemplate(subHelpTemplate + metricsFlagsTable("Metrics flags it uses (anywhere on the line):", flushUses...))
	return cmd
}
