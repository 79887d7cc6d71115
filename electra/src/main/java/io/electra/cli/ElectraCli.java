package io.electra.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;

/**
 * The {@code electra} command line: a registry of subcommands, each in its own class. To add one,
 * write a picocli {@code @Command} class and list it in {@code subcommands} below.
 */
@Command(name = "electra", mixinStandardHelpOptions = true, version = "electra 0.1.0",
        description = "ELECTRA pre-training and fine-tuning for the JVM.",
        subcommands = {TokenizeCommand.class, PrepareCommand.class, PretrainCommand.class, ForwardCommand.class,
                FinetuneCommand.class, EvaluateCommand.class, PredictCommand.class,
                DetectCommand.class, DemoCommand.class, CommandLine.HelpCommand.class})
public final class ElectraCli implements Runnable {
    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests run commands through it. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new ElectraCli());
        cl.setExecutionExceptionHandler(ElectraCli::reportError);
        return cl;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    /**
     * Bad input (a missing file, an invalid vocabulary, an unusable output directory) is reported as
     * one line naming what is wrong, not a stack trace; anything else is a bug and keeps its trace.
     */
    private static int reportError(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        Throwable t = e instanceof UncheckedIOException && e.getCause() != null ? e.getCause() : e;
        if (t instanceof NoSuchFileException nf) {
            cl.getErr().println("electra " + cl.getCommandName() + ": error: " + nf.getFile()
                    + (nf.getReason() != null ? ": " + nf.getReason() : ": no such file"));
        } else if (t instanceof IOException || t instanceof IllegalArgumentException || t instanceof IllegalStateException) {
            cl.getErr().println("electra " + cl.getCommandName() + ": error: " + t.getMessage());
        } else {
            t.printStackTrace(cl.getErr());
        }
        return 1;
    }
}
