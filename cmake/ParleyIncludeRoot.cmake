# parley_include_root(TARGET NAME): gives TARGET an include root of its own that holds only the
# folder it is built from, under NAME, so that users write #include "NAME/header.h" and can reach
# nothing else of the source tree through it (the repository root is never an include path).
function(parley_include_root target name)
    set(root ${CMAKE_CURRENT_BINARY_DIR}/include-root)
    file(MAKE_DIRECTORY ${root})
    if(NOT EXISTS ${root}/${name})
        file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${root}/${name} SYMBOLIC)
    endif()
    target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${root}>)
endfunction()
