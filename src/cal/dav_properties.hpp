#pragma once
// The properties of DAV resources (RFC 4918 §15, RFC 4791 §5.2, RFC 5397, RFC 6578), written into
// a multistatus answer. Live properties are computed from what the store holds; any other
// property a client sets is kept as a "dead" property (its XML as given).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cal/calendar_store.hpp"
#include "cal/dav_path.hpp"
#include "cal/dav_xml.hpp"

namespace ruche::cal {

// A resource as a PROPFIND or REPORT answer describes it.
struct DavResource {
  DavTarget target;
  std::string href;
  const Calendar* calendar = nullptr;    // for calendars and objects
  const StoredObject* object = nullptr;  // for objects
  std::string principal_displayname;     // for principals
  std::vector<DeadProperty> dead;
};

using PropName = std::pair<std::string, std::string>;  // (namespace, local name)

// What to report about each resource: every property (allprop), only names (propname), or a list.
struct PropRequest {
  enum class Mode { kAllProp, kPropName, kProps };
  Mode mode = Mode::kAllProp;
  std::vector<PropName> props;
  // <C:calendar-data> asked, with <C:expand start end> when it was inside.
  bool calendar_data = false;
  std::optional<TimeRange> expand;
};

// Reads the <D:prop>/<D:allprop>/<D:propname> child of a PROPFIND or REPORT body.
Result<PropRequest> ReadPropRequest(const XmlElement* parent);

// Whether a property may not be set by a client (RFC 4918 §15 "protected").
bool IsProtected(std::string_view ns, std::string_view name);

// The sync-token URI of a calendar at `seq` (RFC 6578 §3.2), and its parse.
// The token names the calendar by id and creation time, so a token of a deleted calendar is
// refused by a new one that got the same id.
std::string SyncToken(const Calendar& calendar, int64_t seq);
std::optional<int64_t> ParseSyncToken(std::string_view token, const Calendar& calendar);

// Appends one <D:response> for `r` to `w`. `calendar_text(obj)` gives the calendar-data to send
// for an object (the stored text, or its expansion).
class PropertyWriter {
 public:
  explicit PropertyWriter(std::string user_principal) : principal_(std::move(user_principal)) {}
  void Response(XmlWriter& w, const DavResource& r, const PropRequest& req,
                const std::string* calendar_data) const;

 private:
  // Writes the property's element; false when the resource has no such property.
  bool Live(XmlWriter& w, const DavResource& r, std::string_view ns, std::string_view name,
            const std::string* calendar_data) const;
  std::vector<PropName> LiveNames(const DavResource& r, bool all) const;
  std::string principal_;
};

}  // namespace ruche::cal
