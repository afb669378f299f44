/* ncurses_hello.c - baseline for bench/tui_bench.py: the least a curses program does to
 * show a first frame (initscr, one line, refresh) and then wait for a key. */
#include <curses.h>
#include <locale.h>

int main(void)
{
	setlocale(LC_ALL, "");
	initscr();
	cbreak();
	noecho();
	mvaddstr(LINES - 1, 0, "hello ? help");
	refresh();
	getch();
	endwin();
	return 0;
}
