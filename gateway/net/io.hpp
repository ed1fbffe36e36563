#pragma once
// What every awaited operation of the gateway shares: expected errors come back as values
// (as_tuple), not exceptions.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

namespace giosg::net {

namespace asio = boost::asio;
using boost::system::error_code;

inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace giosg::net
