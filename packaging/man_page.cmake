# man_page.cmake: writes postern(8) from the binary's own `postern help` text,
# so the manual never disagrees with the program (run by packaging/CMakeLists.txt).
# Inputs: POSTERN (the binary), EMULATOR ("|"-separated command, empty on native builds),
# VERSION, OUT (the .8 file to write).
string(REPLACE "|" ";" EMULATOR "${EMULATOR}")
execute_process(COMMAND ${EMULATOR} ${POSTERN} help OUTPUT_VARIABLE help_text
                RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR help_text STREQUAL "")
  message(FATAL_ERROR "`postern help` failed (${status}); cannot write the manual page")
endif()

# roff: a backslash is an escape, a leading dot or quote a request, '-' a hyphen.
string(REPLACE "\\" "\\e" help_text "${help_text}")
string(REPLACE "-" "\\-" help_text "${help_text}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help_text "${help_text}")

string(TIMESTAMP today "%Y-%m-%d" UTC)
if(DEFINED ENV{SOURCE_DATE_EPOCH})
  string(TIMESTAMP today "%Y-%m-%d" UTC)  # honours SOURCE_DATE_EPOCH (reproducible)
endif()

file(WRITE ${OUT} ".TH POSTERN 8 \"${today}\" \"postern ${VERSION}\" \"System Administration\"
.SH NAME
postern \\- small mail appliance: SMTP in, POP3 out, crash\\-safe LMDB store
.SH SYNOPSIS
.B postern
.I command
.RB [ \\-\\-board
.IR NAME ]
.RB [ \\-\\-data
.IR DIR ]
.RI [ arguments ...]
.SH DESCRIPTION
.B postern
receives mail over SMTP for its own domains only (never an open relay), keeps it in
a crash\\-safe LMDB store, serves it over POP3 (STLS and POP3S), removes the duplicate
and partial copies that broken links cause, and shows what happened on a small status
page over HTTP(S).
.B postern serve
runs the appliance; every other command works on the data folder and may run while
the service does. On first start the service logs a one\\-time setup link for the page
(with systemd: \\fBjournalctl \\-u postern\\fR).
.SH COMMANDS
The text below is what \\fBpostern help\\fR prints.
.PP
.nf
${help_text}.fi
.SH FILES
.TP
.I /var/lib/postern
the data folder of the Debian package: the LMDB store (data.mdb, lock.mdb), the spool
and tls/ (key.pem, cert.pem, created on first start).
.TP
.I /lib/systemd/system/postern.service
the service; it runs as the user \\fBpostern\\fR with CAP_NET_BIND_SERVICE only.
.SH SEE ALSO
.BR systemctl (1),
.BR journalctl (1)
")
