FROM @BASE@
ENV APP_VERSION=@VERSION@
LABEL org.opencontainers.image.title="@APP@-@COMP@" org.opencontainers.image.version="@VERSION@"
COPY app /app
WORKDIR /app
EXPOSE @PORT@
@HEALTHCHECK@
CMD ["/app/start"]
