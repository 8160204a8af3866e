module emutest/hello

go 1.19
