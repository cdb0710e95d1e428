package io.imsrc.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's headless Chromium driven through Debian's chromedriver (packages chromium and
 * chromium-driver, which .ci/run installs): no browser or driver is downloaded. Started headless,
 * without its sandbox (Chromium will not start as root with one), the GPU, first-run screens and
 * background network use (no update checks, no sync), in a fresh profile; {@link #close} quits it.
 */
public final class HeadlessChromium implements AutoCloseable {

    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private final ChromeDriver driver;
    private final WebDriverWait wait;

    private HeadlessChromium(ChromeDriver driver, Duration timeout) {
        this.driver = driver;
        this.wait = new WebDriverWait(driver, timeout);
        // The page replaces its result grid when a search answers: a condition that read the old
        // grid meets a stale element, which means "not yet", not a failure (seen in CI once).
        this.wait.ignoring(StaleElementReferenceException.class);
    }

    /** @param profileParent where the fresh profile folder goes (a test's temporary folder) */
    public static HeadlessChromium start(Path profileParent, Duration timeout) throws IOException {
        assertThat(CHROMIUM).as("Debian's chromium (apt-get install chromium chromium-driver; .ci/run does)").exists();
        assertThat(CHROMEDRIVER).as("Debian's chromium-driver").exists();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + Files.createTempDirectory(profileParent, "chromium"), "--window-size=1400,1000");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        return new HeadlessChromium(new ChromeDriver(service, options), timeout);
    }

    public ChromeDriver driver() {
        return driver;
    }

    public WebDriverWait waiting() {
        return wait;
    }

    /** Drops {@code bytes} on the element {@code id} as a browser does: a drop event whose DataTransfer holds a File. */
    public void drop(String id, byte[] bytes, String name, String type) {
        ((JavascriptExecutor) driver).executeScript("""
                const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
                const transfer = new DataTransfer();
                transfer.items.add(new File([bytes], arguments[1], {type: arguments[2]}));
                const zone = document.getElementById(arguments[3]);
                zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true, cancelable: true}));
                zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
                """, Base64.getEncoder().encodeToString(bytes), name, type, id);
    }

    /** Pastes a file into the page as Ctrl+V with an image on the clipboard does. */
    public void paste(byte[] bytes, String name, String type) {
        ((JavascriptExecutor) driver).executeScript("""
                const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
                const transfer = new DataTransfer();
                transfer.items.add(new File([bytes], arguments[1], {type: arguments[2]}));
                document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true, cancelable: true}));
                """, Base64.getEncoder().encodeToString(bytes), name, type);
    }

    @Override
    public void close() {
        driver.quit();
    }
}
