// meswitch-studio: the ME-Switch Studio desktop application.
#include <QApplication>

#include "first_run.h"
#include "meswitch/system.h"
#include "studio_app.h"

int main(int argc, char** argv) {
    meswitch::use_huge_pages_for_malloc(argv);
    QApplication app(argc, argv);
    FirstRun::setEnabled(true);  // an empty catalog is offered the demo pack
    return Studio::runStudio(app);
}
