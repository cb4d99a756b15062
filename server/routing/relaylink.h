// RelayLink: names one relayed HTTP response in a cluster (routing/noderouter.h, "relayed
// responses"): the node holding the client's request, and the relay's id there.
#pragma once

#include <cstdint>
#include <string>

namespace parley::server {

struct RelayLink {
    std::string node;
    std::uint64_t id = 0;
    //! "<node>/<id>", unique in the cluster.
    std::string key() const { return node + '/' + std::to_string(id); }
};

} // namespace parley::server
