package nitro

import (
	"net/http"
	"strings"

	"github.com/gslbd/gslbd/internal/nserr"
)

// LDNSTable is optional on a Backend: the RTT method's resolvers (show,
// clear gslb ldnsentries; rm gslb ldnsentry).
type LDNSTable interface {
	// LDNSEntries lists the resolvers as gslbldnsentries objects.
	LDNSEntries() []map[string]any
	// RemoveLDNS drops one resolver by address ("": all of them); an
	// address the table does not hold is an error.
	RemoveLDNS(ip string) error
}

// ldnsEntries serves gslbldnsentries (GET; POST ?action=clear) and
// gslbldnsentry (DELETE /<ip>).
func (s *Server) ldnsEntries(req *request) (*reply, error) {
	t, ok := s.backend.(LDNSTable)
	if !ok {
		return nil, &apiError{code: nserr.InvalidObjectName, msg: "Invalid object name [" + req.resource + "]", status: http.StatusNotFound}
	}
	m := req.r.Method
	switch {
	case req.resource == "gslbldnsentries" && m == http.MethodGet:
		objs := t.LDNSEntries()
		if len(objs) == 0 {
			return &reply{}, nil
		}
		return &reply{fields: obj{"gslbldnsentries": objs}}, nil
	case req.resource == "gslbldnsentries" && m == http.MethodPost && strings.EqualFold(req.query.Get("action"), "clear"):
		return &reply{}, t.RemoveLDNS("")
	case req.resource == "gslbldnsentry" && m == http.MethodDelete && req.key != "":
		if err := t.RemoveLDNS(req.key); err != nil {
			return nil, err
		}
		return &reply{}, nil
	}
	return nil, fail(nserr.InvalidAction, "Invalid method or action for "+req.resource+": gslbldnsentries supports GET and POST ?action=clear, gslbldnsentry DELETE /<ipaddress>")
}
