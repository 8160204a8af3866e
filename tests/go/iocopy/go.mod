module emutest/iocopy

go 1.19
