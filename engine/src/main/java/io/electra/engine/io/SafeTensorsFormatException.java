package io.electra.engine.io;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file that breaks the format; the message names the file and, where known, the tensor. */
public final class SafeTensorsFormatException extends IOException {

    public SafeTensorsFormatException(Path file, String message) {
        super(file + ": " + message);
    }

    public SafeTensorsFormatException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }

    static SafeTensorsFormatException forTensor(Path file, String tensor, String message) {
        return new SafeTensorsFormatException(file, "tensor '" + tensor + "': " + message);
    }
}
