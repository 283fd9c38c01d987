package benchlog

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// body holds lines of real installer logs (messages copied from
// testdata/installer-logs and the installer's terraform and Cluster API
// output); level and message, the time is added when writing.
var body = []string{
	`level=debug msg="  Fetching Certificate (admin-kubeconfig-client)..."`,
	`level=debug msg="    Loading Certificate (kube-apiserver-localhost-ca-bundle)..."`,
	`level=debug msg="  Reusing previously-fetched Install Config"`,
	`level=debug msg="Generating Cluster API Manifests..."`,
	`level=debug msg="module.vpc.aws_subnet.private_subnet[0]: Creating..."`,
	`level=debug msg="module.vpc.aws_subnet.private_subnet[0]: Creation complete after 11s [id=subnet-0a1b2c3d4e5f60718]"`,
	`level=debug msg="module.masters.aws_instance.master[2]: Still creating... [1m10s elapsed]"`,
	`level=debug msg="vsphere_folder.folder[0]: Creation complete after 0s [id=group-v34]"`,
	`level=debug msg="I1123 15:00:00.000000       1 awscluster_controller.go:200] \"Reconciling AWSCluster\" controller=\"awscluster\" namespace=\"openshift-cluster-api-guests\""`,
	`level=debug msg=Deleted arn="arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0" id=i-0123456789abcdef0`,
	`level=info msg="Created manifest *v1beta2.AWSMachine, namespace=openshift-cluster-api-guests name=mycluster-x7k2p-master-0"`,
	`level=warning msg="Release Image Architecture not detected. Release Image Architecture is unknown"`,
	`level=debug msg="Cluster Operator etcd is Progressing=True LastTransitionTime=2025-03-10 15:30:00 +0000 UTC DurationSinceTransition=12s Reason=NodeInstaller Message=NodeInstallerProgressing: 1 node is at revision 3"`,
}

// LongEvery is how many lines come, on average, for one long debug line.
const LongEvery = 2000

// Write writes a log of about size bytes to w, with one long debug line
// every longEvery lines on average (none if longEvery <= 0). The same seed
// gives the same log.
func Write(w io.Writer, size int64, longEvery int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	t := time.Date(2025, 3, 10, 14, 0, 0, 0, time.UTC)
	var written int64
	line := func(s string) {
		n, _ := fmt.Fprintf(bw, "time=%q %s\n", t.Format(time.RFC3339), s)
		written += int64(n)
	}
	head := func() {
		line(`level=debug msg="OpenShift Installer 4.16.20"`)
		line(`level=debug msg="Built from commit 0123456789abcdef0123456789abcdef01234567"`)
	}
	head()
	line(`level=info msg="Consuming Install Config from target directory"`)
	line(`level=info msg="Creating infrastructure resources..."`)
	long := longPayload()
	tail := int64(4 << 10)
	for i := 0; written < size-tail; i++ {
		if i%60 == 0 {
			t = t.Add(time.Second)
		}
		if longEvery > 0 && rng.IntN(longEvery) == 0 {
			// A terraform plan or Cluster API object dump: 100 KiB to 4 MiB.
			n := int64(100<<10 + rng.IntN(4<<20-100<<10))
			n = min(n, max(size-tail-written, 1))
			pre := fmt.Sprintf("time=%q level=debug msg=\"module.masters.aws_instance.master[0]: Modifying... ", t.Format(time.RFC3339))
			_, _ = bw.WriteString(pre) // a bufio.Writer keeps its first error for Flush
			for k := int64(0); k < n; {
				c := min(n-k, int64(len(long)))
				_, _ = bw.Write(long[:c])
				k += c
			}
			_, _ = bw.WriteString("\"\n")
			written += int64(len(pre)) + n + 2
			continue
		}
		line(body[rng.IntN(len(body))])
	}
	head()
	for _, s := range []string{
		`level=info msg="Waiting up to 20m0s (until 3:27PM UTC) for the Kubernetes API at https://api.mycluster.example.com:6443..."`,
		`level=info msg="API v1.29.9+5865c5b up"`,
		`level=info msg="Waiting up to 45m0s (until 4:13PM UTC) for bootstrapping to complete..."`,
		`level=info msg="Destroying the bootstrap resources..."`,
		`level=info msg="Waiting up to 40m0s (until 4:50PM UTC) for the cluster at https://api.mycluster.example.com:6443 to initialize..."`,
		`level=info msg="Install complete!"`,
		`level=info msg="Time elapsed: 42m17s"`,
	} {
		t = t.Add(7 * time.Minute)
		line(s)
	}
	return bw.Flush()
}

// longPayload is 1 MiB of escaped JSON as terraform prints it in debug lines.
func longPayload() []byte {
	unit := []byte(`{\"ami\":\"ami-0123456789abcdef0\",\"user_data\":\"eyJpZ25pdGlvbiI6eyJ2ZXJzaW9uIjoiMy4yLjAifX0=\",\"tags\":{\"kubernetes.io/cluster/mycluster-x7k2p\":\"owned\"}},`)
	return bytes.Repeat(unit, (1<<20)/len(unit)+1)[:1<<20]
}
