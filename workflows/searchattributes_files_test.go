package workflows

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
)

// TestDeploymentFilesCreateEverySearchAttribute keeps the files that set up a Temporal
// namespace by hand in step with searchAttributeTypes: docker-compose.yml's temporal-setup
// (name:Type) and scripts/temporal.sh (name=Type), which make test and make run use.
func TestDeploymentFilesCreateEverySearchAttribute(t *testing.T) {
	files := map[string]string{"../docker-compose.yml": ":", "../scripts/temporal.sh": "="}
	for path, sep := range files {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		text := string(raw)
		for name, typ := range searchAttributeTypes {
			want := name + sep + map[enumspb.IndexedValueType]string{
				enumspb.INDEXED_VALUE_TYPE_KEYWORD: "Keyword", enumspb.INDEXED_VALUE_TYPE_DOUBLE: "Double",
			}[typ]
			require.Regexp(t, `\b`+regexp.QuoteMeta(want)+`\b`, text, "%s does not create the search attribute %s", path, want)
		}
	}
}
