package io.imsrc.common.embed;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.imsrc.common.image.DecodedImage;
import io.imsrc.common.image.ImagePreprocessor;
import io.imsrc.common.io.Downloads;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What imsrc must know about an embedding model to feed it and read it: a TorchScript file, or a
 * network imsrc defines in Java ({@link #architecture}) with the parameters {@code imsrc train}
 * wrote. A value with no I/O but for reading descriptions, loadable from a small JSON file or taken
 * from the built-in ones.
 *
 * <p>JSON form (relative {@code model} paths are resolved against the JSON file's folder):
 *
 * <pre>{@code
 * {"name": "resnet20-cifar10", "model": "resnet20-cifar10.pt",
 *  "inputWidth": 32, "inputHeight": 32,
 *  "normalization": {"insideModel": true},
 *  "embeddingOutput": 0, "logitsOutput": 1,
 *  "labels": ["airplane", "automobile", ...]}
 * }</pre>
 *
 * <p>Serializable, so that the ingest job can hand it to its operators on the task managers.
 *
 * @param name the name that starts the model id; letters, digits, '.', '_' and '-'
 * @param model the model file (TorchScript, or the parameters of an {@code architecture}): a path,
 *     an http(s) URL, {@code djl://GROUP/ARTIFACT[/VERSION]} for DJL's model zoo ({@link ZooModels})
 *     or {@code classpath:RESOURCE} for a model imsrc ships ({@link #BUNDLED})
 * @param inputWidth the model's input width in pixels
 * @param inputHeight the model's input height in pixels
 * @param normalization what to do after scaling pixels to [0, 1]; inside the model when left out
 * @param embeddingOutput which element of the model's output tuple is the embedding (N x D); 0 when
 *     left out
 * @param logitsOutput which element holds class logits (N x labels), or {@code null} for none
 * @param labels the class names in logit order; empty without logits
 * @param architecture for a network imsrc defines in Java ({@code imsrc train}): the network to
 *     build, whose parameters {@code model} then holds; {@code null} for a TorchScript file. Such a
 *     network returns the embedding as output 0 and its logits as output 1
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelDescription(
        String name,
        String model,
        int inputWidth,
        int inputHeight,
        Normalization normalization,
        int embeddingOutput,
        Integer logitsOutput,
        List<String> labels,
        ModelArchitecture architecture) implements Serializable {

    /** CIFAR-10's classes in label order, the logit order of the CIFAR ResNets. */
    public static final List<String> CIFAR10_LABELS = List.of(
            "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    /**
     * A TorchScript ResNet-20 for CIFAR-10 (converted from Yerlan Idelbayev's public weights; no
     * public download of the file, so it is looked for in DATA_DIR/models or at MODEL_PATH): N x 3
     * x 32 x 32 RGB in [0, 1], normalised inside the model; output 0 is the 64-d embedding, output 1
     * the logits. The model imsrc shipped first; the tests compare against its reference embeddings.
     */
    public static final ModelDescription RESNET20_CIFAR10 = cifarResnet("resnet20-cifar10");

    /** ResNet-56 for CIFAR-10, the same contract as ResNet-20 with a deeper trunk. */
    public static final ModelDescription RESNET56_CIFAR10 = cifarResnet("resnet56-cifar10");

    /**
     * ResNet-18 trained on ImageNet, from DJL's model zoo: the 512 pooled features before the
     * classifier, for 224 x 224 input with ImageNet's normalisation (the original design's
     * MODEL_NAME=resnet18). Downloaded into DATA_DIR/models/djl on first use.
     */
    public static final ModelDescription RESNET18 = new ModelDescription("resnet18",
            ZooModels.SCHEME + "ai.djl.pytorch/resnet18_embedding/0.0.1", 224, 224, Normalization.IMAGENET, 0, null,
            null, null);

    private static final Map<String, ModelDescription> BUILT_IN = Map.of(
            RESNET20_CIFAR10.name(), RESNET20_CIFAR10,
            RESNET56_CIFAR10.name(), RESNET56_CIFAR10,
            RESNET18.name(), RESNET18);

    /**
     * The models imsrc carries in its jar: description, parameters and metrics are resources in
     * {@value #BUNDLED_FOLDER}NAME/, so they resolve on any machine without a download.
     */
    public static final List<String> BUNDLED = List.of("imsrc-resnet20-cifar10");

    static final String BUNDLED_FOLDER = "io/imsrc/common/embed/models/";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /**
     * The MODEL_NAME default: the ResNet-20 imsrc trained itself with {@code imsrc train} on
     * CIFAR-10's training split and ships in its jar (README, "The default model").
     */
    public static final ModelDescription DEFAULT = builtIn("imsrc-resnet20-cifar10");

    public ModelDescription {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("model name '" + name + "' may hold only letters, digits, '.', '_' and '-'");
        }
        Objects.requireNonNull(model, "model");
        if (model.isBlank()) {
            throw new IllegalArgumentException("model location of '" + name + "' is blank");
        }
        if (inputWidth < 1 || inputHeight < 1) {
            throw new IllegalArgumentException("input size must be positive, got " + inputWidth + "x" + inputHeight);
        }
        normalization = normalization == null ? Normalization.INSIDE_MODEL : normalization;
        if (embeddingOutput < 0) {
            throw new IllegalArgumentException("embeddingOutput must be >= 0, got " + embeddingOutput);
        }
        labels = labels == null ? List.of() : List.copyOf(labels);
        if (logitsOutput != null) {
            if (logitsOutput < 0 || logitsOutput == embeddingOutput) {
                throw new IllegalArgumentException(
                        "logitsOutput must be >= 0 and differ from embeddingOutput, got " + logitsOutput);
            }
            if (labels.isEmpty()) {
                throw new IllegalArgumentException("a model with logits needs its class labels");
            }
        } else if (!labels.isEmpty()) {
            throw new IllegalArgumentException("labels are given but no logitsOutput says where their logits are");
        }
        if (architecture != null && (embeddingOutput != 0 || logitsOutput == null || logitsOutput != 1
                || !normalization.isInsideModel() || labels.size() < 2)) {
            throw new IllegalArgumentException("a model with an architecture has its embedding at output 0, the "
                    + "logits of at least two labels at output 1, and normalises inside the model");
        }
    }

    /** Whether {@code model} is a parameters file for {@link #architecture} rather than TorchScript. */
    @JsonIgnore
    public boolean isDefinedInJava() {
        return architecture != null;
    }

    private static ModelDescription cifarResnet(String name) {
        return new ModelDescription(name, name + ".pt", 32, 32, Normalization.INSIDE_MODEL, 0, 1, CIFAR10_LABELS, null);
    }

    /**
     * A built-in description by name ({@code resnet20-cifar10}, {@code resnet56-cifar10}); its
     * {@code model} is a bare file name, to be resolved by the caller or replaced with {@link
     * #withModel}.
     *
     * @throws IllegalArgumentException naming the known descriptions
     */
    public static ModelDescription builtIn(String name) {
        if (BUNDLED.contains(name)) {
            return bundled(name);
        }
        ModelDescription description = BUILT_IN.get(name);
        if (description == null) {
            throw unknown(name, "");
        }
        return description;
    }

    /**
     * The error for a MODEL_NAME that names nothing, listing the built-in names ({@code more}: what
     * else the caller looked at). {@code resnet50}, a name of the original design, gets its reason.
     */
    public static IllegalArgumentException unknown(String name, String more) {
        if (name.equals("resnet50")) {
            return new IllegalArgumentException("MODEL_NAME=resnet50 is not offered: DJL's model zoo has no ResNet-50 "
                    + "feature extractor (its traced_resnet50 outputs the 1,000 ImageNet class scores, not the pooled "
                    + "features); export one as the README's \"Your own model\" shows and set MODEL_NAME to its "
                    + "description (.json), or use resnet18");
        }
        return new IllegalArgumentException("unknown model '" + name + "': built in are "
                + String.join(", ", builtInNames()) + more + "; or give the path of a model description file (.json)");
    }

    /** Whether {@link #builtIn} knows {@code name}. */
    public static boolean isBuiltIn(String name) {
        return BUNDLED.contains(name) || BUILT_IN.containsKey(name);
    }

    /** The built-in names, bundled ones first. */
    public static List<String> builtInNames() {
        List<String> names = new java.util.ArrayList<>(BUNDLED);
        BUILT_IN.keySet().stream().sorted().forEach(names::add);
        return names;
    }

    /** A bundled model's description, its model file a {@code classpath:} location. */
    private static ModelDescription bundled(String name) {
        String folder = BUNDLED_FOLDER + name + "/";
        try (java.io.InputStream in = ModelDescription.class.getClassLoader().getResourceAsStream(folder + name + ".json")) {
            if (in == null) {
                throw new IllegalStateException("the bundled model " + name + " is missing from the class path");
            }
            ModelDescription description = fromJson(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            return description.withModel(ModelLocator.CLASSPATH + folder + description.model());
        } catch (IOException e) {
            throw new IllegalStateException("the bundled model " + name + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** Parses a description; a relative {@code model} path is kept as written. */
    public static ModelDescription fromJson(String json) throws IOException {
        try {
            return JSON.readValue(json, ModelDescription.class);
        } catch (JsonMappingException e) {
            throw new IOException("invalid model description: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Reads a description file; a relative {@code model} path is resolved against its folder (a URL,
     * zoo or class-path location is kept as it is).
     */
    public static ModelDescription fromJson(Path file) throws IOException {
        ModelDescription description;
        try {
            description = JSON.readValue(file.toFile(), ModelDescription.class);
        } catch (JsonMappingException e) {
            throw new IOException("invalid model description " + file + ": " + e.getOriginalMessage(), e);
        }
        if (description.isUrl() || description.isZoo() || description.isBundled()) {
            return description;
        }
        Path folder = file.toAbsolutePath().getParent();
        return description.withModel(folder.resolve(description.model()).normalize().toString());
    }

    public String toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException("a model description always serialises", e);
        }
    }

    /** The same description with its model at another path or URL (MODEL_PATH). */
    public ModelDescription withModel(String newModel) {
        return new ModelDescription(name, newModel, inputWidth, inputHeight, normalization, embeddingOutput,
                logitsOutput, labels, architecture);
    }

    @JsonIgnore
    public boolean hasLogits() {
        return logitsOutput != null;
    }

    /** Whether {@code model} is a file imsrc ships on its class path ({@link #BUNDLED}). */
    @JsonIgnore
    public boolean isBundled() {
        return ModelLocator.isBundled(model);
    }

    /** Whether {@code model} is a model of DJL's model zoo ({@code djl://...}, {@link ZooModels}). */
    @JsonIgnore
    public boolean isZoo() {
        return model.startsWith(ZooModels.SCHEME); // a constant: ZooModels (and DJL) stay unloaded
    }

    /** Whether {@code model} is an http(s) URL rather than a path. */
    @JsonIgnore
    public boolean isUrl() {
        return Downloads.isUrl(model);
    }

    /** Floats per image the model takes: 3 x height x width. */
    @JsonIgnore
    public int inputLength() {
        return 3 * inputWidth * inputHeight;
    }

    /**
     * The model input for one decoded image: resized to the input size, scaled to [0, 1], in CHW
     * order, normalised unless the model does that itself. A pure function.
     */
    public float[] preprocess(DecodedImage image) {
        return normalization.applyInPlace(ImagePreprocessor.toChw(image, inputWidth, inputHeight));
    }
}
