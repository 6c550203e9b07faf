#pragma once
// The absolute base of links Ruche sends by e-mail (join, manage): `public_base_url` when set,
// else the scheme-less Host the request came to (only plain host characters are trusted: a
// forged Host cannot put anything else into a link).
#include <string>

#include "core/config.hpp"
#include "net/http_types.hpp"

namespace ruche::cal {

std::string PublicBaseUrl(const core::Config& config, const net::Request& request);

}  // namespace ruche::cal
