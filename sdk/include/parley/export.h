// Symbol visibility for the Parley SDK shared library.
//
// The library is built with hidden visibility: only symbols marked PARLEY_SDK_EXPORT are part of
// its ABI. PARLEY_SDK_BUILDING is defined while the SDK itself is compiled.
#pragma once

#include <QtCore/qglobal.h>

#if defined(PARLEY_SDK_BUILDING)
//! Marks a class or function as part of the SDK's public ABI.
#define PARLEY_SDK_EXPORT Q_DECL_EXPORT
#else
//! Marks a class or function as part of the SDK's public ABI.
#define PARLEY_SDK_EXPORT Q_DECL_IMPORT
#endif
