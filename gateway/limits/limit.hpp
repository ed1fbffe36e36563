#pragma once
// The limit stage (docs/architecture.md): between the decision and the forward, the place where
// per-client and per-credential limits refuse a request with 429. No limit is configurable yet,
// so every request is admitted; the stage exists so that the session already runs it in order
// and limits land here without touching the other stages. Pure: no Asio.
#include "common/reason.hpp"
#include "identity/identify.hpp"

namespace giosg {

struct LimitVerdict {
    Reason reason = Reason::ok;  // ok: admitted

    [[nodiscard]] bool admitted() const noexcept { return reason == Reason::ok; }
};

/// Whether `identity`'s request may go on to the upstream now.
inline LimitVerdict check_limits(const Identity& /*identity*/) noexcept { return {}; }

}  // namespace giosg
