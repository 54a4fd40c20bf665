// Types of parse-prometheus-text-format (the package ships none): metric families with their samples.
declare module 'parse-prometheus-text-format' {
  interface PlainSample {
    value: string;
    labels?: Record<string, string>;
  }
  interface HistogramSample {
    buckets: Record<string, string>;
    /** Missing for some label orders (a known gap of the parser); the scraper does not use histograms. */
    count?: string;
    sum?: string;
    labels?: Record<string, string>;
  }
  interface MetricFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: (PlainSample | HistogramSample)[];
  }
  export default function parsePrometheusTextFormat(text: string): MetricFamily[];
}
