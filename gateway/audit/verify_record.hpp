#pragma once
// One line of an audit file as `audit verify` judges it on its own: a chained record whose hash
// matches, of a known kind, carrying the members its kind must carry (README "Integrity"). How
// records link to each other is verify.cpp's part.
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "audit/chain.hpp"

namespace giosg::audit {

/// One complete line that is a chained record whose hash matches.
struct ParsedRecord {
    ChainedLine chained;
    boost::json::object members;
    std::string_view kind;  // empty for a request record without `kind`
};

/// Why `line` is not an intact chained record of a known kind; empty when it is.
std::string parse_record(std::string_view line, ParsedRecord& record);

/// A member parse_record checked to be a count (a non-negative integer).
std::uint64_t count_of(const boost::json::value& value);

/// A member parse_record checked to be a string.
std::string_view string_of(const boost::json::object& record, std::string_view name);

}  // namespace giosg::audit
