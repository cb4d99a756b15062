# parley_sdk (Parley::Sdk): the client SDK, a shared library with a small public Qt API.
#
# Layout: include/parley/ is the public API (installed); transport/, outbox/, replay/,
# reconnect/ and client/ are private. Everything is compiled once into parley_sdk_objects, which
# the shared library is made of and which unit tests link to reach the private classes. Symbols
# are hidden unless marked PARLEY_SDK_EXPORT, so the ABI is exactly the public headers.

set(PARLEY_SDK_PUBLIC_HEADERS
    include/parley/client.h
    include/parley/clientoptions.h
    include/parley/connectionstate.h
    include/parley/error.h
    include/parley/export.h
    include/parley/historyquery.h
    include/parley/message.h
    include/parley/messagestate.h
    include/parley/reconnectoptions.h
    include/parley/serveraddress.h
)
# For the "every public header compiles alone" test.
set(PARLEY_SDK_PUBLIC_HEADERS ${PARLEY_SDK_PUBLIC_HEADERS} PARENT_SCOPE)
set(PARLEY_SDK_INCLUDE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/include PARENT_SCOPE)

add_library(parley_sdk_objects OBJECT
    ${PARLEY_SDK_PUBLIC_HEADERS}
    client/client.cpp
    client/client_p.h
    client/clientframes.cpp
    client/clientdirect.cpp
    client/clientnegotiation.cpp
    client/clientpresence.cpp
    client/clientoptions.cpp
    client/clientoutbox.cpp
    client/clientrequests.cpp
    client/error.cpp
    client/messagestate.cpp
    client/serveraddress.cpp
    client/wireconversion.cpp
    client/wireconversion.h
    outbox/outbox.cpp
    outbox/outbox.h
    outbox/outboxjournal.cpp
    outbox/outboxjournal.h
    reconnect/networkmonitor.cpp
    reconnect/networkmonitor.h
    reconnect/reconnectpolicy.cpp
    reconnect/reconnectpolicy.h
    replay/deliverytracker.cpp
    replay/deliverytracker.h
    transport/curlmulti.cpp
    transport/curlmulti.h
    transport/eventsourceparser.cpp
    transport/eventsourceparser.h
    transport/httptransport.cpp
    transport/httptransport.h
    transport/longpolltransport.cpp
    transport/longpolltransport.h
    transport/ssetransport.cpp
    transport/ssetransport.h
    transport/transport.cpp
    transport/transport.h
    transport/transportfactory.cpp
    transport/transportfactory.h
    transport/transportnegotiator.cpp
    transport/transportnegotiator.h
    transport/websockettransport.cpp
    transport/websockettransport.h
)
target_include_directories(parley_sdk_objects PUBLIC
    ${CMAKE_CURRENT_SOURCE_DIR}/include
    ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(parley_sdk_objects PUBLIC PARLEY_SDK_BUILDING)
target_link_libraries(parley_sdk_objects PUBLIC
    Qt6::Core Qt6::Network Qt6::WebSockets Parley::protocol Parley::base CURL::libcurl)
set_target_properties(parley_sdk_objects PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)

add_library(parley_sdk SHARED $<TARGET_OBJECTS:parley_sdk_objects>)
add_library(Parley::Sdk ALIAS parley_sdk)
target_include_directories(parley_sdk PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(parley_sdk
    PUBLIC Qt6::Core
    PRIVATE Qt6::Network Qt6::WebSockets CURL::libcurl $<BUILD_INTERFACE:Parley::protocol>
        $<BUILD_INTERFACE:Parley::base>)
set_target_properties(parley_sdk PROPERTIES
    OUTPUT_NAME parley
    EXPORT_NAME Sdk
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)

# Install rules and the CMake package config (Parley::Sdk) live in packaging/CMakeLists.txt.
