// libFuzzer target for the HTTP transports' envelopes, both sides: the SDK's decoders (session
// reply, poll batch, SSE close event, HTTP error answers) and the server's (commands batch) must
// turn any bytes into an envelope or a typed error, never crash, hang or leak; an envelope that
// decodes must survive encode -> decode unchanged (what the server writes, the SDK reads back
// exactly).
#include <protocol/envelopes.h>
#include <protocol/stored.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace parley::protocol::http;

namespace {

template <typename Decode, typename Encode>
void roundTrip(std::string_view bytes, Decode decode, Encode encode)
{
    const auto first = decode(bytes, EnvelopeLimits {});
    if (!first) {
        return;
    }
    const auto again = decode(encode(first.value()), EnvelopeLimits {});
    if (!again || !(again.value() == first.value())) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    roundTrip(bytes, decodeSessionReply, encodeSessionReply);
    roundTrip(bytes, decodePollBatch, encodePollBatch);
    roundTrip(bytes, decodeCloseEvent, encodeCloseEvent);
    roundTrip(bytes, decodeHttpError, encodeHttpError);
    // The cluster's stored/published message (protocol/stored.h) comes from Redis, which
    // another writer may share: the same rules.
    if (const auto stored = parley::protocol::stored::decodeMessage(bytes)) {
        const auto again = parley::protocol::stored::decodeMessage(
            parley::protocol::stored::encodeMessage(stored.value()));
        if (!again || !(again.value() == stored.value())) {
            std::abort();
        }
    }
    // A single frame passes through verbatim (the frame codec judges it); a batch re-encodes
    // to the same frames.
    const auto start = bytes.find_first_not_of(" \t\r\n");
    const bool isBatch = start != std::string_view::npos && bytes[start] == '[';
    if (const auto commands = decodeCommands(bytes); commands && isBatch) {
        const auto again = decodeCommands(encodeCommands(commands.value()));
        if (!again || again.value() != commands.value()) {
            std::abort();
        }
    }
    return 0;
}
