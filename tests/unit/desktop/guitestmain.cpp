// gtest main for the desktop app's tests: like tests/support/testmain.cpp, but inside a
// QApplication, which widgets need. ctest runs these with QT_QPA_PLATFORM=offscreen.
//
// Compiled into each desktop test executable, so the linker never pulls the QCoreApplication
// main from parley_test_main.
#include <QApplication>
#include <gtest/gtest.h>

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    // The tests check behaviour, not the host's look: one style everywhere.
    QApplication::setStyle(QStringLiteral("Fusion"));
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
