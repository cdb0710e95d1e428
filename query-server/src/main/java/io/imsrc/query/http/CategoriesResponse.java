package io.imsrc.query.http;

import io.javalin.openapi.OpenApiDescription;
import java.util.List;

@OpenApiDescription("Every category with images")
public record CategoriesResponse(List<CategoryInfo> categories) {}
