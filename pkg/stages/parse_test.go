package stages

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		line   string
		level  level
		format format
		msg    string
		extra  string
		ts     string
		when   time.Time
	}{
		{"file", `time="2026-11-23T18:42:10Z" level=info msg="Consuming Install Config from target directory"`,
			lvInfo, fmtFile, "Consuming Install Config from target directory", "", "2026-11-23T18:42:10Z", time.Time{}},
		{"file escapes", `time="2026-11-23T18:42:20Z" level=error msg="failed: invalid \"install-config.yaml\" file\nnext\t\\ \x41\u00e9\101"`,
			lvError, fmtFile, "failed: invalid \"install-config.yaml\" file\nnext\t\\ AéA", "", "2026-11-23T18:42:20Z", time.Time{}},
		{"file fields", `time="2021-04-07T11:57:39-04:00" level=debug msg=Deleted arn="arn:aws:ec2:x" id=i-1`,
			lvDebug, fmtFile, "Deleted", `arn="arn:aws:ec2:x" id=i-1`, "2021-04-07T11:57:39-04:00", time.Time{}},
		{"file quoted fields", `time="2021-04-07T11:57:39Z" level=error msg="failed to delete" error="access denied"`,
			lvError, fmtFile, "failed to delete", `error="access denied"`, "2021-04-07T11:57:39Z", time.Time{}},
		{"file no msg", `time="2021-04-07T11:57:39-04:00" level=error`,
			lvError, fmtFile, "", "", "2021-04-07T11:57:39-04:00", time.Time{}},
		{"file cut inside msg", `time="2021-04-07T11:57:39Z" level=debug msg="aws_instance.bootstrap: Creat`,
			lvDebug, fmtFile, "aws_instance.bootstrap: Creat", "", "2021-04-07T11:57:39Z", time.Time{}},
		{"file cut inside escaped msg", `time="2021-04-07T11:57:39Z" level=info msg="a \"b\" c\`,
			lvInfo, fmtFile, `a "b" c`, "", "2021-04-07T11:57:39Z", time.Time{}},
		{"debug msg stays raw", `time="2021-04-07T11:57:39Z" level=debug msg="OpenShift Installer 4.16.0" x=1`,
			lvDebug, fmtFile, `OpenShift Installer 4.16.0" x=1`, "", "2021-04-07T11:57:39Z", time.Time{}},
		{"pipe 4.7+", `level=info msg=Consuming Install Config from target directory`,
			lvInfo, fmtPipe, "Consuming Install Config from target directory", "", "", time.Time{}},
		{"pipe 4.2-4.6", `level=fatal msg="failed to initialize the cluster: timed out"`,
			lvFatal, fmtPipe, "failed to initialize the cluster: timed out", "", "", time.Time{}},
		{"terminal padded", "INFO Waiting up to 20m0s for the Kubernetes API at https://api.x:6443... \r\n",
			lvInfo, fmtTerminal, "Waiting up to 20m0s for the Kubernetes API at https://api.x:6443...", "", "", time.Time{}},
		{"terminal colour", "\x1b[33mWARNING\x1b[0m Release Image Architecture not detected. \r",
			lvWarning, fmtTerminal, "Release Image Architecture not detected.", "", "", time.Time{}},
		{"terminal logrus tty timestamp", "ERRO[0042] something broke",
			lvNone, fmtNone, "ERRO[0042] something broke", "", "", time.Time{}},
		{"terminal logrus tty full level", "ERROR[0042] something broke",
			lvError, fmtTerminal, "something broke", "", "", time.Time{}},
		{"terminal tab", "ERROR \t* provider.openstack: cloud openstack does not exist",
			lvError, fmtTerminal, "* provider.openstack: cloud openstack does not exist", "", "", time.Time{}},
		{"terminal empty", "ERROR                                             ",
			lvError, fmtTerminal, "", "", "", time.Time{}},
		{"indented pipe", "      level=fatal msg=Bootstrap failed to complete",
			lvFatal, fmtPipe, "Bootstrap failed to complete", "", "", time.Time{}},
		{"jenkins time of day", `08:23:05  level=info msg="Consuming Install Config from target directory"`,
			lvInfo, fmtPipe, "Consuming Install Config from target directory", "", "", day.Add(8*time.Hour + 23*time.Minute + 5*time.Second)},
		{"github actions", "2024-05-06T07:08:09.1234567Z INFO Install complete!",
			lvInfo, fmtTerminal, "Install complete!", "", "", time.Date(2024, 5, 6, 7, 8, 9, 123456700, time.UTC)},
		{"bracketed time and job", "[2021-07-19T06:23:03.500Z] [install] + INFO Creating infrastructure resources...",
			lvInfo, fmtTerminal, "Creating infrastructure resources...", "", "", time.Date(2021, 7, 19, 6, 23, 3, 500000000, time.UTC)},
		{"go log prefix", "2021/07/19 06:23:03 FATAL failed to fetch Cluster",
			lvFatal, fmtTerminal, "failed to fetch Cluster", "", "", time.Date(2021, 7, 19, 6, 23, 3, 0, time.UTC)},
		{"offset time", "2021-07-19T06:23:03+02:00 | ERROR boom",
			lvError, fmtTerminal, "boom", "", "", time.Date(2021, 7, 19, 4, 23, 3, 0, time.UTC)},
		{"logfmt after unknown prefix", `installer-pod stdout F time="2026-11-23T18:42:10Z" level=warning msg=x`,
			lvWarning, fmtFile, "x", "", "2026-11-23T18:42:10Z", time.Time{}},
		{"not an entry", "? Platform openstack",
			lvNone, fmtNone, "? Platform openstack", "", "", time.Time{}},
		{"word that is no level", "INFORMATION is not a level",
			lvNone, fmtNone, "INFORMATION is not a level", "", "", time.Time{}},
		{"bad level", "level=loud msg=x",
			lvNone, fmtNone, "level=loud msg=x", "", "", time.Time{}},
		{"binary", "\x00\xff\xfe level=\x00",
			lvNone, fmtNone, "\x00\xff\xfe level=\x00", "", "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parser{now: func() time.Time { return day.Add(time.Hour) }}
			var e entry
			p.parse([]byte(tt.line), &e)
			got := []any{e.level, e.format, string(e.msg), string(e.extra), string(e.ts), e.when}
			want := []any{tt.level, tt.format, tt.msg, tt.extra, tt.ts, tt.when}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("parse(%q) mismatch (-want +got):\n%s", tt.line, diff)
			}
		})
	}
}

func TestTimeOfDayRollsOverMidnight(t *testing.T) {
	var c todClock
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	a := c.at(now, 23, 59, 0, 0)
	b := c.at(now, 0, 1, 0, 0)
	if got := b.Sub(a); got != 2*time.Minute {
		t.Errorf("23:59 to 00:01 is %v, want 2m", got)
	}
}

func TestMinorOf(t *testing.T) {
	tests := []struct {
		v            string
		major, minor int
		ok           bool
	}{
		{"4.16.20", 4, 16, true},
		{"v4.3.1", 4, 3, true},
		{"4.5.0-0.okd-2020-07-14-153706-ga", 4, 5, true},
		{"4.19.0-ec.3", 4, 19, true},
		{"v0.16.1", 0, 16, true},
		{"unreleased-master-542-g0e12f4527c25e9d1e2ddb31bea0ace0cb6d463ca-dirty", 0, 0, false},
		{"7ad0e35651d59acc86772481d79ea17241f3ecd7", 0, 0, false},
		{"", 0, 0, false},
		{"4.", 0, 0, false},
		{"4.x", 0, 0, false},
	}
	for _, tt := range tests {
		major, minor, ok := minorOf(tt.v)
		if major != tt.major || minor != tt.minor || ok != tt.ok {
			t.Errorf("minorOf(%q) = %d, %d, %v; want %d, %d, %v", tt.v, major, minor, ok, tt.major, tt.minor, tt.ok)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{`Login to the console with user: "kubeadmin", and password: "Xa7pQ-kU9"`, `Login to the console with user: <redacted>`},
		{`Login to the console with user: kubeadmin, password: Xa7pQ-kU9`, `Login to the console with user: <redacted>`},
		{`The cluster is ready when 'oc login -u kubeadmin -p Xa7pQ-kU9' succeeds`, `The cluster is ready when 'oc login -u kubeadmin -p <redacted>' succeeds`},
		{`invalid "install-config.yaml" file: pullSecret: Invalid value: "{\"auths\":{}}": bad`, `invalid "install-config.yaml" file: pullSecret: Invalid value: <redacted>: bad`},
		{`pull secret: {"auths":{"cloud.openshift.com":{"auth":"dXNlcjpwYXNz"}}}`, `pull secret: <redacted>`},
		{`"auth":"dXNlcjpwYXNz","email":"a@b.c"`, `"auth":<redacted>,"email":"a@b.c"`},
		{`Authorization: Bearer eyJhbGciOi.abc`, `Authorization: Bearer <redacted>`},
		{`token=sha256~AbCdEf123 and sha256~XyZ`, `token=<redacted> and <redacted>`},
		{`Get "https://admin:hunter2@api.x:6443/version"`, `Get "https://admin:<redacted>@api.x:6443/version"`},
		{`verify the /d/auth/kubeadmin-password file`, `verify the /d/auth/kubeadmin-password file`},
		{`Cluster operator authentication Degraded is True`, `Cluster operator authentication Degraded is True`},
		{`failed to create cluster: tokens expired`, `failed to create cluster: tokens expired`},
		{"a\x00b\nc\xff", "a b c\uFFFD"},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	long := redact(string(make([]byte, 5000)) + "x")
	if len(long) > maxDeciding+len("…") {
		t.Errorf("redact kept %d bytes, want at most %d", len(long), maxDeciding)
	}
}
