package io.imsrc.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.imsrc.query.QueryServer;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.HeadlessChromium;
import io.imsrc.testing.SharedFiles;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The page's "Add to library" end to end, in Debian's headless Chromium: the page uploads to the
 * query server, which publishes to Kafka; the ingest job (the launcher's local Flink) embeds and
 * stores the image, the index picks it up, and the page follows it until it says so. The server
 * runs as a user starts it ({@code imsrc ingest --no-bulk --serve}) with an API token, a small
 * MAX_UPLOAD_SIZE, and a model described without a classifier, so that an image without a category
 * is refused by the job (NO_CATEGORY) and the page must show that reason.
 */
class AddToLibraryBrowserITCase {

    private static final String TOKEN = "page-token";
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir Path temp;

    @Test
    void the_page_adds_an_image_follows_it_until_indexed_and_shows_refusals() throws Exception {
        Path description = temp.resolve("embedding-only.json");
        Files.writeString(description, """
                {"name": "resnet20-embedding-only", "model": "%s", "inputWidth": 32, "inputHeight": 32,
                 "embeddingOutput": 0}
                """.formatted(SharedFiles.model("resnet20-cifar10.pt").toString().replace("\\", "\\\\")));
        Map<String, String> env = ServingIngest.environment(temp.resolve("data"), TOKEN);
        env.put("MODEL_NAME", description.toString());
        env.put("MAX_UPLOAD_SIZE", "65536");
        String dashboardPort = env.get("FLINK_WEB_PORT");
        ServingIngest ingest = ServingIngest.start(env);
        int exit;
        try (HeadlessChromium chromium = HeadlessChromium.start(temp, WAIT)) {
            QueryServer server = ingest.server();
            ApiClient api = new ApiClient(server.port(), TOKEN);
            api.awaitReady(Duration.ofSeconds(60));
            String page = "http://localhost:" + server.port() + "/app/";
            assertThat(ingest.console()).contains("Web page         " + page);
            WebDriver browser = chromium.driver();
            WebDriverWait wait = chromium.waiting();
            browser.get(page);

            // The status panel links to this job's Flink dashboard, and the link answers.
            WebElement dashboard = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("dashboard-link")));
            assertThat(dashboard.getAttribute("href")).contains(":" + dashboardPort);
            HttpResponse<String> overview = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(dashboard.getAttribute("href").replaceAll("/$", "") + "/overview")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(overview.statusCode()).as(overview.body()).isEqualTo(200);
            assertThat(overview.body()).contains("\"jobs-running\":1");

            Map<String, byte[]> files = SharedFiles.readTarEntries(SharedFiles.cifar10JpgArchive(),
                    List.of("cifar-10-jpg/test/cat/0003.jpg", "cifar-10-jpg/test/ship/0001.jpg"));
            byte[] cat = files.get("cifar-10-jpg/test/cat/0003.jpg");

            // A labelled image: the page asks for the token the server wants, uploads, and follows
            // the image through the job to the index.
            chromium.drop("dropzone", cat, "my-cat.jpg", "image/jpeg");
            browser.findElement(By.id("add-category")).sendKeys("cat");
            wait.until(ExpectedConditions.elementToBeClickable(By.id("add"))).click();
            Alert prompt = wait.until(ExpectedConditions.alertIsPresent());
            assertThat(prompt.getText()).contains("API token");
            prompt.sendKeys(TOKEN);
            prompt.accept();
            WebElement uploadState = browser.findElement(By.id("upload-state"));
            wait.until(d -> uploadState.getText().startsWith("Indexed:"));
            Matcher indexed = Pattern.compile("Indexed: image (\\d+) \\(cat\\) is searchable\\.").matcher(uploadState.getText());
            assertThat(indexed.matches()).as(uploadState.getText()).isTrue();
            String catId = indexed.group(1);
            JsonNode stored = api.get("/images/" + catId).json();
            assertThat(stored.get("state").asText()).isEqualTo("indexed");
            assertThat(stored.get("searchable").asBoolean()).isTrue();
            assertThat(stored.get("category").asText()).isEqualTo("cat");
            assertThat(stored.get("category_assignment").asText()).isEqualTo("label");
            assertThat(stored.get("original_name").asText()).isEqualTo("my-cat.jpg");
            wait.until(d -> "1".equals(d.findElement(By.cssSelector("#status-index [data-field=images]")).getText()));

            // Searchable from the page at once: the image itself comes first. This model has no
            // classifier, so the summary names the nearest prototype's category, not a prediction.
            browser.findElement(By.id("search")).click();
            wait.until(d -> !d.findElements(By.cssSelector("#grid li")).isEmpty());
            WebElement first = browser.findElement(By.cssSelector("#grid li"));
            assertThat(first.getAttribute("data-image-id")).isEqualTo(catId);
            assertThat(Double.parseDouble(first.getAttribute("data-similarity"))).isGreaterThan(0.9999);
            assertThat(browser.findElement(By.id("predicted")).getText()).isEqualTo("cat");
            assertThat(browser.findElement(By.id("summary")).getText())
                    .startsWith("Nearest category cat (by prototype)").doesNotContain("confidence");

            // The same bytes again are already there: nothing is queued.
            browser.findElement(By.id("add")).click();
            wait.until(d -> uploadState.getText().equals("Already in the library (image " + catId + ")."));

            // An image without a category, which this model cannot predict: the job refuses it and
            // the page shows the reason it recorded.
            chromium.drop("dropzone", files.get("cifar-10-jpg/test/ship/0001.jpg"), "ship.jpg", "image/jpeg");
            browser.findElement(By.id("add-category")).clear();
            wait.until(ExpectedConditions.elementToBeClickable(By.id("add"))).click();
            WebElement message = browser.findElement(By.id("message"));
            wait.until(d -> message.isDisplayed() && message.getText().startsWith("The image was rejected"));
            assertThat(message.getText()).isEqualTo("The image was rejected: the image has no category and the model "
                    + "resnet20-embedding-only has no classifier to predict one (NO_CATEGORY)");
            assertThat(uploadState.getText()).endsWith("was not added.");

            // Larger than MAX_UPLOAD_SIZE: a clear message for a search and for an upload, and the
            // progress bar stops.
            chromium.drop("dropzone", noisePng(256), "big.png", "image/png");
            wait.until(ExpectedConditions.elementToBeClickable(By.id("search"))).click();
            wait.until(d -> message.isDisplayed() && message.getText().startsWith("That image is too large."));
            assertThat(browser.findElement(By.id("progress")).isDisplayed()).isFalse();
            wait.until(ExpectedConditions.elementToBeClickable(By.id("add"))).click();
            wait.until(d -> message.isDisplayed() && message.getText().startsWith("That image is too large."));
            assertThat(uploadState.getText()).isEmpty();

            JsonNode status = api.get("/status").json();
            assertThat(status.get("counts").get("images").asLong()).as(status.toString()).isEqualTo(1);
            assertThat(status.get("counts").get("uploads").get("queued").asLong()).isZero();
        } finally {
            exit = ingest.stop();
        }
        assertThat(exit).isZero();
    }

    /** A PNG of random pixels: it does not compress, so its size is about 3 bytes a pixel. */
    private static byte[] noisePng(int side) throws Exception {
        BufferedImage image = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Random random = new Random(6);
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                image.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(image, "png", png);
        assertThat(png.size()).isGreaterThan(65536);
        return png.toByteArray();
    }
}
