package installer

// Platforms is the closed set of platform label values
// (docs/metrics-schema.md; pkg/types/installconfig.go upstream).
var Platforms = []string{"aws", "azure", "gcp", "vsphere", "baremetal", "openstack", "ovirt",
	"ibmcloud", "powervs", "nutanix", "alibabacloud", "libvirt", "external", "none"}

// UnknownPlatform is the platform label when none was found.
const UnknownPlatform = "unknown"

// NormalizePlatform maps a platform key from install-config.yaml, the state
// file or metadata.json to the closed set; anything else is "unknown".
func NormalizePlatform(p string) string {
	for _, v := range Platforms {
		if p == v {
			return v
		}
	}
	return UnknownPlatform
}
