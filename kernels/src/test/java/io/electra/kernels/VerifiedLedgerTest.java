package io.electra.kernels;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.electra.kernels.gpu.Gpu;
import io.electra.kernels.gpu.Ledger;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The verification ledger (kernels/verified.json, or -Delectra.ledger=FILE). Runs after the gpu
 * tests (junit-platform.properties orders classes): with a device it records what they verified
 * and fails if a kernel's PTX changed but no test re-verified it; on the CPU it lists the kernels
 * whose current PTX has never met a GPU.
 */
@Tag("ledger")  // so the bundle's run-gpu-tests.sh, which selects 'gpu | ledger', runs it too
@Order(Integer.MAX_VALUE)
class VerifiedLedgerTest {
    private static final Path LEDGER = Path.of(System.getProperty("electra.ledger", "verified.json"));

    @Test
    void everyVerifiedKernelNamesItsCurrentPtx() throws IOException {
        ObjectNode entries = LedgerFile.read(LEDGER);
        Map<String, Family> kernels = LedgerFile.kernels();
        Map<String, Double> verifiedNow = Ledger.verified();
        boolean gpu = Gpu.probe().isAvailable() && !CudaRuntime.emulated();
        if (CudaRuntime.emulated()) {
            System.out.println("ledger: the gpu tests ran on the CPU emulation of CUDA, which verifies no kernel on a GPU; "
                    + LEDGER + " is left as it is");
        }
        if (gpu && !verifiedNow.isEmpty()) {
            CudaBackend b = Gpu.probe().backend().orElseThrow();
            for (Map.Entry<String, Double> v : verifiedNow.entrySet()) {
                Family f = kernels.get(v.getKey());
                assertTrue(f != null, "a gpu test recorded '" + v.getKey() + "', which is no kernel of the committed PTX");
                ObjectNode e = JsonNodeFactory.instance.objectNode();
                e.put("ptx", f.fileName());
                e.put("ptxSha256", LedgerFile.sha256(f));
                e.put("gpu", b.deviceName());
                e.put("driver", "CUDA " + b.driverVersion() / 1000 + "." + (b.driverVersion() % 1000) / 10);
                e.put("maxError", v.getValue());
                e.put("date", LocalDate.now().toString());
                e.put("commit", commit());
                entries.set(v.getKey(), e);
            }
            LedgerFile.write(LEDGER, entries);
            System.out.println("ledger " + LEDGER.toAbsolutePath() + ": recorded " + verifiedNow.size() + " verified kernels");
        }
        List<String> unverified = new ArrayList<>(), stale = new ArrayList<>();
        for (Map.Entry<String, Family> k : kernels.entrySet()) {
            JsonNode e = entries.get(k.getKey());
            if (e == null) unverified.add(k.getKey());
            else if (!LedgerFile.sha256(k.getValue()).equals(e.path("ptxSha256").asText())) stale.add(k.getKey());
        }
        System.out.println("ledger " + LEDGER + ": " + (kernels.size() - unverified.size() - stale.size()) + " of " + kernels.size()
                + " kernels verified on a GPU at their current PTX; unverified: " + unverified + "; stale: " + stale);
        if (gpu) {
            assertTrue(stale.isEmpty(), "kernels whose PTX changed since they were verified, and which no gpu test "
                    + "re-verified in this run: " + stale);
        }
    }

    @Test
    void everyLedgerEntryNamesAKernelOfTheCommittedPtx() throws IOException {
        ObjectNode entries = LedgerFile.read(LEDGER);
        Map<String, Family> kernels = LedgerFile.kernels();
        List<String> unknown = new ArrayList<>();
        entries.fieldNames().forEachRemaining(n -> {
            if (!kernels.containsKey(n)) unknown.add(n);
        });
        assertTrue(unknown.isEmpty(), LEDGER + " lists kernels that no PTX file defines: " + unknown);
    }

    private static String commit() {
        String fromProperty = System.getProperty("electra.commit");
        if (fromProperty != null && !fromProperty.isBlank()) return fromProperty;
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "--short", "HEAD").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 ? out : "unknown";
        } catch (IOException | InterruptedException e) {
            return "unknown";
        }
    }
}
