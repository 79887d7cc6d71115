/**
 * The {@code electra} command line (picocli): {@link io.electra.cli.ElectraCli} lists the
 * subcommands, one class each ({@code tokenize}, {@code prepare}, ...). Errors in user input are
 * reported as one line naming the file, line or option; the exit status is non-zero.
 */
package io.electra.cli;
