/* (The toolkit's proto.c ends with splice_file_data(), left out of the lab.) */
