#pragma once
// The bytes of one syslog message for one audit line: an RFC 5424 header in front of the line,
// framed by octet counting (RFC 6587 §3.4.1). Apart from the shipper, which only queues and sends
// what this builds.
#include <string>
#include <string_view>

namespace giosg {

class SyslogFramer {
public:
    SyslogFramer() = default;
    /// `facility` must already be 0..23. The host name and the process id are taken now.
    SyslogFramer(int facility, std::string_view app_name);

    /// `MSG-LEN SP <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID audit - LINE`, stamped with the time
    /// of the call; `line` goes in as is (no trailing '\n' expected).
    [[nodiscard]] std::string frame(std::string_view line) const;

private:
    std::string header_start_;  // "<PRI>1 "
    std::string header_rest_;   // " HOSTNAME APP-NAME PROCID audit - "
};

}  // namespace giosg
