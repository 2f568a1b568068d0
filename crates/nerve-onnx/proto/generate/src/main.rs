fn main() {
    let mut args = std::env::args().skip(1);
    let proto = args.next().expect("proto path");
    let out = args.next().expect("out dir");
    let dir = std::path::Path::new(&proto).parent().unwrap().to_path_buf();
    prost_build::Config::new()
        .out_dir(&out)
        .disable_comments(["."])
        .compile_protos(&[&proto], &[dir])
        .expect("protoc");
}
