#pragma once
// Catalogue drift (docs/reference.md "Catalogue drift"): what a refreshed catalogue changes in
// the table in force, and how much of it applies. Pure: the refresh loop (server/) fetches, this
// decides, and the caller logs, counts, audits and publishes.
//
// With hold, a change applies only as far as it narrows access: a removed endpoint or method, or
// scopes given to a method that had none, apply at once; a new endpoint or method, or a method
// whose scopes were emptied, is held (the table keeps what it had); a scope list changed
// otherwise gets the intersection of old and new (any-of: only clients that could call it before
// and after keep access; an empty intersection admits nobody) and counts as held until the full
// change is accepted by updating the snapshot file.
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "policy/catalogue_entry.hpp"

namespace giosg {

using OnWidening = PolicyConfig::OnWidening;

/// One difference between the table in force and the live catalogue: what the audit record
/// `{"kind": "policy_change", ...}` and the log line say.
struct PolicyChange {
    char change = '~';                                     // '+', '-', '~'
    std::string pattern;                                   // without a trailing slash
    std::string method;
    std::optional<std::vector<std::string>> scopes;        // the live list; nullopt for '-'
    std::vector<std::string> previous_scopes;              // the list in force before ('~' and '-')
    bool applied = true;                                   // false: held, wholly or in part
    /// For a held '~': the list now in force (the intersection, or the old list when the new one
    /// is empty); nullopt where the rule in force admits nobody.
    std::optional<std::vector<std::string>> in_force_scopes;

    /// The `policy diff` line, with " (held)" or " (held; in force: [x])" appended when not applied.
    [[nodiscard]] std::string line() const;
    /// The same change (kind, pattern, method, live scopes): how a held change is recognised on
    /// the next refresh, whose table in force already reflects the hold.
    [[nodiscard]] bool same_change(const PolicyChange& other) const;
};

struct DriftOutcome {
    std::vector<CatalogueEntry> in_force;   // the table to compile: live, less what is held
    std::vector<PolicyChange> changes;      // every difference found, sorted by pattern then method
};

/// Compares the live catalogue with the table in force and decides each difference. With
/// OnWidening::apply every change applies and `in_force` is `live`.
DriftOutcome reconcile_catalogue(const std::vector<CatalogueEntry>& in_force, const std::vector<CatalogueEntry>& live,
                                 OnWidening mode);

/// The drift state across refreshes: the table in force and the changes still held. A held
/// change found again by a later refresh is not reported again.
class PolicyDrift {
public:
    PolicyDrift(std::vector<CatalogueEntry> in_force, OnWidening mode, std::vector<PolicyChange> held = {});

    /// Reconciles with a fresh live catalogue; returns the changes to report (new ones only).
    std::vector<PolicyChange> refresh(const std::vector<CatalogueEntry>& live);

    [[nodiscard]] const std::vector<CatalogueEntry>& in_force() const noexcept { return in_force_; }
    [[nodiscard]] const std::vector<PolicyChange>& held() const noexcept { return held_; }
    [[nodiscard]] OnWidening mode() const noexcept { return mode_; }

private:
    std::vector<CatalogueEntry> in_force_;
    OnWidening mode_;
    std::vector<PolicyChange> held_;
};

}  // namespace giosg
