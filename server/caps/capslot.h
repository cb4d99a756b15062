// CapSlot: one counted place under a cap (a connection, a user's session), held for as long as
// the thing it counts lives.
//
// Move-only; gives its place back exactly once: when it is destroyed or reset(), on whatever
// thread that happens (owners are thread-safe). A default-constructed slot holds nothing (e.g.
// when the cap is off) and gives nothing back. 16 bytes, so that it can sit in every connection.
#pragma once

#include <utility>

namespace parley::server {

class CapSlot {
public:
    //! What hands out places and takes them back. Implementations are thread-safe and outlive
    //! every slot they handed out.
    class Owner {
    public:
        //! Takes back the place `entry` (what the owner gave the slot) names. Called once.
        virtual void release(void* entry) noexcept = 0;

    protected:
        ~Owner() = default;
    };

    CapSlot() = default;
    CapSlot(Owner* owner, void* entry)
        : m_owner(owner)
        , m_entry(entry)
    {
    }
    CapSlot(CapSlot&& other) noexcept
        : m_owner(std::exchange(other.m_owner, nullptr))
        , m_entry(std::exchange(other.m_entry, nullptr))
    {
    }
    CapSlot& operator=(CapSlot&& other) noexcept
    {
        if (this != &other) {
            reset();
            m_owner = std::exchange(other.m_owner, nullptr);
            m_entry = std::exchange(other.m_entry, nullptr);
        }
        return *this;
    }
    CapSlot(const CapSlot&) = delete;
    CapSlot& operator=(const CapSlot&) = delete;
    ~CapSlot() { reset(); }

    //! Gives the place back now (nothing if the slot holds none).
    void reset() noexcept
    {
        if (Owner* owner = std::exchange(m_owner, nullptr)) {
            owner->release(std::exchange(m_entry, nullptr));
        }
    }
    //! Whether the slot holds a place.
    explicit operator bool() const { return m_owner != nullptr; }

private:
    Owner* m_owner = nullptr;
    void* m_entry = nullptr;
};

} // namespace parley::server
