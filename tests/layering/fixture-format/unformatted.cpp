// A file clang-format would change: check-format must report it.
int  badly_formatted( int x ){return x+1;}
