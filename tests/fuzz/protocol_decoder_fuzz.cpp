// libFuzzer target for the wire protocol decoder: any bytes must decode to a frame or a typed
// error, never crash, hang or leak; a frame that decodes must survive encode → decode unchanged.
#include <protocol/codec.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace parley::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    DecodeLimits limits;
    limits.maxBodyBytes = 512;

    if (const auto client = decodeClientFrame(bytes, limits); client.ok()) {
        const auto again = decodeClientFrame(encode(client.value()), limits);
        if (!again.ok() || !(again.value() == client.value())) {
            std::abort();
        }
    }
    if (const auto server = decodeServerFrame(bytes, limits); server.ok()) {
        const auto again = decodeServerFrame(encode(server.value()), limits);
        if (!again.ok() || !(again.value() == server.value())) {
            std::abort();
        }
    }
    return 0;
}
