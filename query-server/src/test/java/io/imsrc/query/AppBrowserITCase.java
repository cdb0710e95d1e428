package io.imsrc.query;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.imsrc.common.io.Closeables;
import io.imsrc.common.record.ImageId;
import io.imsrc.embedded.SharedKafka;
import io.imsrc.query.QueryServerOptions;
import io.imsrc.query.testing.EmbeddedCatalog;
import io.imsrc.query.testing.TestServers;
import io.imsrc.testing.ApiClient;
import io.imsrc.testing.HeadlessChromium;
import io.imsrc.testing.LocalHttpServer;
import io.imsrc.testing.Ports;
import io.imsrc.testing.SharedFiles;
import io.imsrc.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

/**
 * The web page at /app in a real browser: Debian's headless Chromium driven through its own
 * chromedriver (installed by .ci/run; nothing is downloaded), against a real query server whose
 * index holds 200 real CIFAR-10 training images embedded by the real model. Screenshots of the main
 * states go to target/screenshots (docs/screenshots holds copies for the README).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AppBrowserITCase {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @TempDir static Path temp;
    private EmbeddedCatalog library;
    private QueryServer server;
    private ApiClient api;
    private HeadlessChromium chromium;
    private ChromeDriver browser;
    private org.openqa.selenium.support.ui.WebDriverWait wait;
    private String base;

    @BeforeAll
    void start() throws Exception {
        library = EmbeddedCatalog.create("browser", 20, temp);
        server = QueryServer.start(TestServers.options(library.services("http://localhost:8081"), temp.resolve("index.bin"),
                Map.of("KAFKA_UPLOADS_TOPIC", SharedKafka.newTopic("browser-uploads", 1))));
        api = new ApiClient(server.port(), null);
        api.awaitReady(WAIT);
        base = "http://127.0.0.1:" + server.port();

        chromium = HeadlessChromium.start(temp, WAIT);
        browser = chromium.driver();
        wait = chromium.waiting();
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    void stop() {
        Closeables.closeAll(chromium, server, library);
    }

    @BeforeEach
    void openPage() {
        browser.manage().window().setSize(new Dimension(1400, 1000));
        browser.get(base + "/app/");
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("#status-categories tbody"), "airplane"));
    }

    private static byte[] testImage(String path) throws Exception {
        return SharedFiles.readTarEntries(SharedFiles.cifar10JpgArchive(), List.of(path)).get(path);
    }

    private void drop(byte[] bytes, String name, String type) {
        chromium.drop("dropzone", bytes, name, type);
    }

    /** Drops a test image on the page, clicks Search and waits for the first page of results. */
    private void dropAndSearch(String path, String name) throws Exception {
        drop(testImage(path), name, "image/jpeg");
        wait.until(ExpectedConditions.elementToBeClickable(By.id("search"))).click();
        wait.until(d -> results().size() == 10);
    }

    /** Waits until every image {@code selector} matches has loaded, so that screenshots show them. */
    private void awaitImagesLoaded(String selector) {
        wait.until(d -> (Boolean) ((JavascriptExecutor) d).executeScript(
                "return [...document.querySelectorAll(arguments[0])].every(i => i.complete && i.naturalWidth > 0)",
                selector));
    }

    private List<WebElement> results() {
        return browser.findElements(By.cssSelector("#grid li"));
    }

    private void screenshot(String name) throws Exception {
        Path shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(shot, SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void the_empty_page_and_its_status_panel_show_what_status_reports() throws Exception {
        JsonNode status = api.get("/status").json();
        wait.until(d -> d.findElement(By.cssSelector("[data-field=images]")).getText()
                .equals(status.at("/counts/images").asText()));
        assertThat(browser.findElement(By.cssSelector("[data-field=vectors]")).getText())
                .isEqualTo(status.at("/counts/vectors").asText());
        assertThat(browser.findElement(By.cssSelector("[data-field=index-type]")).getText())
                .isEqualTo(status.at("/index/type").asText());
        assertThat(browser.findElement(By.cssSelector("[data-field=index-size]")).getText())
                .isEqualTo(status.at("/index/vectors").asText());
        for (JsonNode category : api.get("/categories").json().get("categories")) {
            WebElement row = browser.findElement(By.cssSelector("#status-categories tr[data-category='"
                    + category.get("category").asText() + "']"));
            assertThat(row.findElement(By.className("images")).getText()).isEqualTo(category.get("image_count").asText());
            assertThat(row.findElement(By.className("vectors")).getText()).isEqualTo(category.get("vector_count").asText());
        }
        WebElement dashboard = browser.findElement(By.id("dashboard-link"));
        assertThat(dashboard.isDisplayed()).isTrue();
        assertThat(dashboard.getAttribute("href")).isEqualTo("http://localhost:8081/");
        assertThat(browser.findElement(By.id("service-warning")).isDisplayed()).as("everything answers").isFalse();
        assertThat(browser.findElement(By.id("search")).isEnabled()).as("nothing to search yet").isFalse();
        screenshot("empty");
    }

    @Test
    void a_dropped_image_finds_images_of_its_class() throws Exception {
        dropAndSearch("cifar-10-jpg/test/automobile/0003.jpg", "car.jpg");
        assertThat(browser.findElement(By.id("predicted")).getText()).isEqualTo("automobile");
        long matching = results().stream().filter(r -> r.getAttribute("data-category").equals("automobile")).count();
        assertThat(matching).as("results of the query's class").isGreaterThanOrEqualTo(6);
        assertThat(browser.findElement(By.id("timings")).getText()).contains("embedding", "prototypes", "index");
        double first = Double.parseDouble(results().get(0).getAttribute("data-similarity"));
        assertThat(results().get(0).findElement(By.className("similarity")).getText())
                .isEqualTo(String.format(java.util.Locale.ROOT, "%.3f", first));
        awaitImagesLoaded("#grid img");
        screenshot("results");

        // Paging: the next page follows on, without repeating the first.
        WebElement more = browser.findElement(By.id("more"));
        assertThat(more.isDisplayed()).isTrue();
        String firstId = results().get(0).getAttribute("data-image-id");
        more.click();
        wait.until(d -> results().size() == 20);
        assertThat(results().subList(10, 20)).noneMatch(r -> r.getAttribute("data-image-id").equals(firstId));
    }

    @Test
    void prototype_only_search_ranks_every_category_with_its_representative() throws Exception {
        drop(testImage("cifar-10-jpg/test/ship/0001.jpg"), "ship.jpg", "image/jpeg");
        wait.until(ExpectedConditions.elementToBeClickable(By.id("prototypes"))).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("ranking")));
        List<WebElement> ranking = browser.findElements(By.cssSelector("#ranking li"));
        assertThat(ranking).hasSize(10);
        assertThat(ranking.get(0).getAttribute("data-category")).isEqualTo("ship");
        assertThat(browser.findElement(By.id("grid")).isDisplayed()).isFalse();
        awaitImagesLoaded("#ranking img");
        screenshot("prototypes");
    }

    @Test
    void a_result_opens_larger_and_searches_by_itself() throws Exception {
        dropAndSearch("cifar-10-jpg/test/horse/0001.jpg", "horse.jpg");
        WebElement first = results().get(0);
        String id = first.getAttribute("data-image-id");
        first.findElement(By.tagName("button")).click();
        WebElement viewer = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("viewer")));
        assertThat(viewer.findElement(By.id("viewer-title")).getText()).contains(id);
        assertThat(viewer.findElement(By.id("viewer-facts")).getText()).contains("Category", "Source");
        browser.findElement(By.id("viewer-search")).click();
        wait.until(d -> !d.findElement(By.id("viewer")).isDisplayed());
        wait.until(d -> results().size() == 10 && !results().get(0).getAttribute("data-image-id").equals(id)
                && d.findElement(By.id("results-section")).getAttribute("aria-busy").equals("false"));
        assertThat(results()).as("the image itself is left out").noneMatch(r -> r.getAttribute("data-image-id").equals(id));
        assertThat(browser.findElement(By.id("preview")).getAttribute("alt")).contains(id);
    }

    @Test
    void a_text_file_is_refused_with_a_clear_message() throws Exception {
        Path text = temp.resolve("notes.txt");
        Files.writeString(text, "this is not an image\n");
        browser.findElement(By.id("file")).sendKeys(text.toAbsolutePath().toString());
        wait.until(ExpectedConditions.elementToBeClickable(By.id("search"))).click();
        WebElement message = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("message")));
        wait.until(d -> message.getText().startsWith("That file is not an image imsrc can read. Detail: "));
        assertThat(message.getText()).contains("notes.txt");
        assertThat(browser.findElement(By.id("progress")).isDisplayed()).as("no spinner left").isFalse();
        assertThat(results()).isEmpty();
        screenshot("error");
    }

    @Test
    void the_page_lays_out_on_a_phone() throws Exception {
        browser.manage().window().setSize(new Dimension(390, 844));
        dropAndSearch("cifar-10-jpg/test/cat/0003.jpg", "cat.jpg");
        long overflow = (Long) ((JavascriptExecutor) browser).executeScript(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth");
        assertThat(overflow).as("no sideways scrolling").isLessThanOrEqualTo(0);
        screenshot("phone");
    }

    @Test
    void the_options_set_by_keyboard_shape_the_search_exactly_as_the_api_answers_it() throws Exception {
        byte[] ship = testImage("cifar-10-jpg/test/ship/0001.jpg");
        drop(ship, "ship.jpg", "image/jpeg");
        // Results 10 -> 5 and top categories 3 -> 1 with the arrow keys, as a keyboard user does.
        browser.findElement(By.id("limit")).sendKeys(Keys.ARROW_LEFT, Keys.ARROW_LEFT, Keys.ARROW_LEFT,
                Keys.ARROW_LEFT, Keys.ARROW_LEFT);
        browser.findElement(By.id("top-categories")).sendKeys(Keys.ARROW_LEFT, Keys.ARROW_LEFT);
        assertThat(browser.findElement(By.id("limit-value")).getText()).isEqualTo("5");
        assertThat(browser.findElement(By.id("top-categories-value")).getText()).isEqualTo("1");
        browser.findElement(By.id("search")).sendKeys(Keys.ENTER);
        wait.until(d -> results().size() == 5);
        assertThat(browser.findElement(By.id("summary")).getText()).contains("searched the best categories: ship");
        assertThat(resultIds()).isEqualTo(apiIds(ship, "limit=5&top_categories=1&use_prototypes=true"));

        // Prototype filtering off (space on the check box), a category filter and a minimum similarity.
        browser.findElement(By.id("use-prototypes")).sendKeys(Keys.SPACE);
        assertThat(browser.findElement(By.id("top-categories")).isEnabled()).isFalse();
        new Select(browser.findElement(By.id("category"))).selectByValue("cat");
        browser.findElement(By.id("min-similarity")).sendKeys("0.5");
        browser.findElement(By.id("search")).click();
        wait.until(d -> !results().isEmpty() && results().stream().allMatch(r -> r.getAttribute("data-category").equals("cat")));
        assertThat(results()).allSatisfy(r ->
                assertThat(Double.parseDouble(r.getAttribute("data-similarity"))).isGreaterThanOrEqualTo(0.5));
        assertThat(resultIds()).isEqualTo(apiIds(ship, "limit=5&use_prototypes=false&category=cat&min_similarity=0.5"));

        // Nothing that similar: the page says so rather than showing an empty grid.
        WebElement min = browser.findElement(By.id("min-similarity"));
        min.clear();
        min.sendKeys("0.9999");
        browser.findElement(By.id("search")).click();
        wait.until(d -> d.findElement(By.id("empty")).isDisplayed()
                && d.findElement(By.id("empty")).getText().equals("No image matches these options."));
        assertThat(results()).isEmpty();
    }

    @Test
    void a_result_opens_and_closes_from_the_keyboard() throws Exception {
        drop(testImage("cifar-10-jpg/test/deer/0001.jpg"), "deer.jpg", "image/jpeg");
        browser.findElement(By.id("search")).sendKeys(Keys.ENTER);
        wait.until(d -> results().size() == 10);
        WebElement first = results().get(0).findElement(By.tagName("button"));
        assertThat(first.getAttribute("aria-label")).startsWith("Result 1: ");
        first.sendKeys(Keys.ENTER);
        WebElement viewer = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("viewer")));
        assertThat(viewer.findElement(By.id("viewer-title")).getText()).contains(results().get(0).getAttribute("data-image-id"));
        browser.switchTo().activeElement().sendKeys(Keys.ESCAPE);
        wait.until(d -> !d.findElement(By.id("viewer")).isDisplayed());
    }

    private List<String> resultIds() {
        return results().stream().map(r -> r.getAttribute("data-image-id")).toList();
    }

    private List<String> apiIds(byte[] image, String query) {
        ApiClient.Response answer = api.postMultipart("/search?" + query,
                List.of(ApiClient.Part.file("file", "query.jpg", image)));
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        List<String> ids = new java.util.ArrayList<>();
        answer.json().get("results").forEach(r -> ids.add(r.get("image_id").asText()));
        return ids;
    }

    @Test
    void the_page_is_served_from_the_server_alone() {
        ApiClient.Response page = api.get("/app/");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.header("Content-Security-Policy")).contains("default-src 'self'");
        assertThat(page.text()).doesNotContain("http://", "https://");
        assertThat(api.get("/app/app.js").text()).doesNotContain("http://", "https://");
        assertThat(api.get("/").status()).isEqualTo(302);
    }

    @Test
    void the_controls_are_reachable_by_keyboard_and_labelled() {
        assertThat(browser.findElement(By.id("dropzone")).getAttribute("tabindex")).isEqualTo("0");
        assertThat(browser.findElement(By.id("dropzone")).getAttribute("aria-label")).contains("Choose an image");
        for (String id : List.of("limit", "top-categories", "min-similarity", "category", "use-prototypes")) {
            String labelled = (String) ((JavascriptExecutor) browser).executeScript(
                    "const e = document.getElementById(arguments[0]); return e.labels.length ? e.labels[0].textContent : '';", id);
            assertThat(labelled).as(id + " has a label").isNotBlank();
        }
    }

    @Test
    void the_page_adds_an_image_to_the_library_and_another_sites_page_cannot() throws Exception {
        // The page's own upload is same-origin for the browser: accepted and queued.
        byte[] own = TestImages.encode(TestImages.noise(24, 24, 77), "png");
        drop(own, "own.png", "image/png");
        wait.until(ExpectedConditions.elementToBeClickable(By.id("add"))).click();
        wait.until(d -> d.findElement(By.id("upload-state")).getText().contains("Image " + ImageId.of(own)));
        assertThat(api.get("/images/" + ImageId.of(own)).json().get("state").asText()).isEqualTo("queued");

        // A page of another site posting the same form with the visitor's browser: sent, but refused.
        byte[] forged = TestImages.encode(TestImages.noise(24, 24, 78), "png");
        try (LocalHttpServer site = LocalHttpServer.serving("/page.html",
                "<!doctype html><title>elsewhere</title>".getBytes(StandardCharsets.UTF_8))) {
            browser.get(site.url().replace("127.0.0.1", "localhost"));
            Object outcome = ((JavascriptExecutor) browser).executeAsyncScript("""
                    const done = arguments[arguments.length - 1];
                    const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
                    const form = new FormData();
                    form.append("file", new Blob([bytes], {type: "image/png"}), "forged.png");
                    fetch(arguments[1] + "/upload", {method: "POST", body: form, mode: "no-cors"})
                        .then(() => done("sent"), e => done("not sent: " + e));
                    """, Base64.getEncoder().encodeToString(forged), base);
            assertThat(outcome).isEqualTo("sent");
        }
        assertThat(api.get("/images/" + ImageId.of(forged)).status()).isEqualTo(404);
        assertThat(api.get("/metrics").text()).contains("route=\"/upload\",status=\"403\"");
    }

    @Test
    void a_pasted_image_becomes_the_query() throws Exception {
        chromium.paste(testImage("cifar-10-jpg/test/ship/0002.jpg"), "clipboard.png", "image/jpeg");
        wait.until(ExpectedConditions.elementToBeClickable(By.id("search"))).click();
        wait.until(d -> results().size() == 10);
        assertThat(browser.findElement(By.id("predicted")).getText()).isEqualTo("ship");
        assertThat(browser.findElement(By.id("preview")).getAttribute("alt")).contains("clipboard.png");
    }

    @Test
    void a_backing_service_that_does_not_answer_is_a_visible_warning() throws Exception {
        // A second server over the same data whose Kafka address answers nothing.
        int deadPort = Ports.free(); // nothing listens there
        QueryServerOptions options = TestServers.options(TestServers.services(library.database().jdbcUrl(),
                library.database().user(), library.model(), "127.0.0.1:" + deadPort), temp.resolve("index-kafka-down.bin"));
        try (QueryServer lonely = QueryServer.start(options)) {
            browser.get("http://127.0.0.1:" + lonely.port() + "/app/");
            WebElement warning = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("service-warning")));
            wait.until(d -> warning.getText().contains("Kafka does not answer"));
            drop(testImage("cifar-10-jpg/test/cat/0003.jpg"), "cat.jpg", "image/jpeg");
        }
        // And the server itself gone: the page says so instead of going blank, and a search ends
        // in a message, not a spinner that never stops.
        wait.until(d -> d.findElement(By.id("service-warning")).getText().contains("cannot be reached"));
        wait.until(ExpectedConditions.elementToBeClickable(By.id("search"))).click();
        WebElement message = browser.findElement(By.id("message"));
        wait.until(d -> message.isDisplayed()
                && message.getText().equals("The imsrc server cannot be reached. Is it running?"));
        assertThat(browser.findElement(By.id("progress")).isDisplayed()).isFalse();
    }

    @Test
    void an_index_still_being_built_is_a_visible_warning_and_searches_say_so() throws Exception {
        // A second server over the same data builds its index afresh. Its build reads the vectors
        // joined with their categories: while this transaction holds the categories table, the
        // build waits, and the page must say the index is not ready.
        try (Connection blocker = library.database().connect(); Statement lock = blocker.createStatement()) {
            blocker.setAutoCommit(false);
            lock.execute("LOCK TABLE categories IN ACCESS EXCLUSIVE MODE");
            QueryServerOptions options = TestServers.options(TestServers.services(library.database().jdbcUrl(),
                    library.database().user(), library.model()), temp.resolve("index-building.bin"));
            try (QueryServer building = QueryServer.start(options)) {
                ApiClient buildingApi = new ApiClient(building.port(), null);
                ApiClient.Response notReady = buildingApi.get("/health/ready");
                assertThat(notReady.status()).as(notReady.toString()).isEqualTo(503);
                assertThat(notReady.json().get("status").asText()).as("no index loaded yet").isEqualTo("starting");
                browser.get("http://127.0.0.1:" + building.port() + "/app/");
                WebElement warning = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("service-warning")));
                wait.until(d -> warning.getText().contains("The index is not ready yet"));
                drop(testImage("cifar-10-jpg/test/frog/0001.jpg"), "frog.jpg", "image/jpeg");
                wait.until(ExpectedConditions.elementToBeClickable(By.id("search"))).click();
                WebElement message = browser.findElement(By.id("message"));
                wait.until(d -> message.isDisplayed()
                        && message.getText().startsWith("The index is still being built; try again in a moment."));
                assertThat(browser.findElement(By.id("progress")).isDisplayed()).isFalse();

                blocker.rollback();
                buildingApi.awaitReady(WAIT);
                // Only the note that this server has no Kafka stays.
                wait.until(d -> warning.getText().equals("Uploads are off on this server (no Kafka)."));
                browser.findElement(By.id("search")).click();
                wait.until(d -> results().size() == 10);
                assertThat(message.isDisplayed()).isFalse();
            }
        }
    }
}
